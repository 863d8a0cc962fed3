//! The contract rules. Each submodule checks one kind of resource and
//! returns [`Violation`]s naming the file and the resource address.

mod backup;
pub mod boundary;
mod database;
mod delivery;
mod instances;
mod logs;
mod parameters;
mod pipeline;
mod roots;
mod storage;
mod tags;

use std::fmt;
use std::path::PathBuf;

use hcl::Expression;

use crate::eval::{Ctx, Resolved, attr};
use crate::tree::{ModuleDir, Resource, Tree};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// File of the offending block, relative to the checked directory; for
    /// something missing from the whole tree, the tree itself (".").
    pub file: PathBuf,
    /// Resource address such as `aws_launch_template.this` or
    /// `aws_s3_bucket.this["artifacts"]`.
    pub address: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.address,
            self.message
        )
    }
}

/// Runs every rule over the tree; violations come sorted by file and address.
pub fn check(tree: &Tree) -> Vec<Violation> {
    let instances = instances(tree);
    let mut out = Vec::new();
    out.extend(tags::check(&instances));
    out.extend(instances::check(&instances));
    out.extend(logs::check(&instances));
    out.extend(database::check(&instances));
    out.extend(delivery::check(&instances));
    out.extend(backup::check(&instances));
    out.extend(storage::check(&instances));
    out.extend(parameters::check(&instances));
    out.extend(roots::check(tree));
    out.extend(pipeline::check(tree));
    out.extend(boundary::check(tree));
    out.sort();
    out.dedup();
    out
}

/// One resource instance: a resource, or one key of its `for_each`.
pub struct Instance<'a> {
    pub module: &'a ModuleDir,
    pub resource: &'a Resource,
    pub ctx: Ctx<'a>,
    pub address: String,
    /// The resource has a `for_each` whose keys cannot be known statically.
    pub unresolved_for_each: bool,
}

impl Instance<'_> {
    pub fn is(&self, rtype: &str) -> bool {
        self.resource.rtype == rtype
    }

    pub fn attr(&self, name: &str) -> Option<&Expression> {
        attr(&self.resource.body, name)
    }

    pub fn violation(&self, message: impl Into<String>) -> Violation {
        Violation {
            file: self.resource.file.clone(),
            address: self.address.clone(),
            message: message.into(),
        }
    }

    /// The instance's tags (literal, locals and merge(...) followed).
    pub fn tags(&self) -> std::collections::BTreeMap<String, Expression> {
        self.attr("tags")
            .map(|t| self.ctx.object_entries(t))
            .unwrap_or_default()
    }

    /// Every value a tag can take.
    pub fn tag_values(&self, key: &str) -> Option<Vec<Resolved>> {
        self.tags().get(key).map(|e| self.ctx.resolve(e))
    }
}

pub fn instances(tree: &Tree) -> Vec<Instance<'_>> {
    let mut out = Vec::new();
    for (module, resource) in tree.resources() {
        let ctx = Ctx::new(tree, module);
        let base = resource.address();
        match attr(&resource.body, "for_each").map(|e| ctx.for_each_instances(e)) {
            None => out.push(Instance {
                module,
                resource,
                ctx,
                address: base,
                unresolved_for_each: false,
            }),
            Some(Some(keys)) => {
                for (key, value) in keys {
                    out.push(Instance {
                        module,
                        resource,
                        ctx: ctx.with_each(key.clone(), value),
                        address: format!("{base}[{key:?}]"),
                        unresolved_for_each: false,
                    });
                }
            }
            Some(None) => out.push(Instance {
                module,
                resource,
                ctx,
                address: format!("{base}[*]"),
                unresolved_for_each: true,
            }),
        }
    }
    out
}

/// Checks that every value `expr` can take is a number of at least `min`.
/// `None` when it holds; otherwise the reason, for the caller's message.
pub fn at_least(ctx: &Ctx, expr: &Expression, min: f64) -> Option<String> {
    let values = ctx.resolve(expr);
    let mut problems = Vec::new();
    for v in &values {
        match v.as_f64() {
            Some(n) if n >= min => {}
            Some(n) => problems.push(format!("{n} is below {min}")),
            None if matches!(v, Resolved::Value(Expression::Null)) => {
                problems.push("null (unset) is not allowed".to_owned())
            }
            None => problems.push(format!("{} cannot be checked statically", v.describe())),
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// A violation about something the whole tree lacks.
pub fn missing(address: &str, message: impl Into<String>) -> Violation {
    Violation {
        file: PathBuf::from("."),
        address: address.to_owned(),
        message: message.into(),
    }
}

/// Renders a string-valued attribute, or `None` when absent.
pub fn rendered(instance: &Instance, name: &str) -> Option<String> {
    instance.attr(name).map(|e| instance.ctx.render(e))
}

/// The contract's names are written in terms of the environment.
pub const ENV: &str = "${var.environment}";

//! The permissions boundary (provision/README.md, "The permissions
//! boundary"; AWS IAM User Guide, "Permissions boundaries for IAM
//! entities", the delegation example):
//!
//! - every `aws_iam_role` sets `permissions_boundary`, and every value it
//!   can take (followed through locals, conditionals and module variables
//!   into each caller) is the project's boundary `notejam-permissions-boundary`:
//!   `aws_iam_policy.<x>.arn` of the policy of that name, or
//!   `arn:<partition>:iam::<account>:policy/notejam-permissions-boundary`;
//! - that policy exists once, its document readable, and it denies what
//!   would let a bounded role out: a role created, re-bounded or given
//!   permissions without the boundary, removing a boundary, changing the
//!   boundary policy, users, groups, access keys and passwords, attaching
//!   AdministratorAccess or IAMFullAccess, and writing, passing or assuming
//!   the account's roles and policies that are not the project's;
//! - the boundary also denies every change to each role that writes the
//!   project's IAM (the apply role): that role can make or arm another
//!   bounded role with IAM on `role/notejam-*`, which its own policy's deny
//!   of changes to itself does not bind, so only the boundary stops such a
//!   role from changing it;
//! - a role whose own policies let it create roles or set boundaries denies
//!   doing so without the boundary, and a role whose own policies reach its
//!   own role or the boundary policy denies changing them (the apply role).
//!
//! Requests are evaluated with [`Statement::applies_to`] against ARNs in a
//! sample account, so `role/notejam-*` of any partition and account counts.

use hcl::Expression;
use hcl::expr::TraversalOperator;

use crate::eval::{Ctx, attr};
use crate::iam::{self, Attached, PolicyDoc, Role, Statement, Target};
use crate::rules::{Violation, missing};
use crate::tree::{ModuleDir, Resource, Tree};

/// The boundary's name, fixed so every root can build its ARN.
pub const BOUNDARY_NAME: &str = "notejam-permissions-boundary";

const ACCOUNT: &str = "111122223333";

/// What a role may not do to itself once its policies reach it.
pub const SELF_CHANGES: &[&str] = &[
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
];

/// What no bounded role may do to a role that writes the project's IAM:
/// everything a role may not do to itself ([`SELF_CHANGES`]), and its tags.
pub fn iam_writer_changes() -> impl Iterator<Item = &'static str> + Clone {
    SELF_CHANGES
        .iter()
        .chain(&["iam:TagRole", "iam:UntagRole"])
        .copied()
}

/// What nobody bounded may do to the boundary policy.
pub const BOUNDARY_CHANGES: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
];

/// Actions that make or arm a role: allowed only with the boundary on it.
const BOUNDED_ONLY: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
];

/// Of those, what a role's own policy must hold to the boundary.
const CREATE_OR_REBOUND: &[&str] = &["iam:CreateRole", "iam:PutRolePermissionsBoundary"];

/// AWS managed policies no project role gets.
const ADMIN_POLICIES: &[&str] = &["AdministratorAccess", "IAMFullAccess"];

/// AWS managed policies that grant every IAM action (so also CreateRole and
/// changes to any role), for roles that hold them.
const IAM_WRITING_MANAGED: &[&str] = &["AdministratorAccess", "IAMFullAccess"];

fn sample_arn(resource: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{resource}")
}

fn project_role() -> Target {
    Target::arn(sample_arn("role/notejam-any-project-role"))
}

fn foreign_role() -> Target {
    Target::arn(sample_arn("role/AnAdministratorRole"))
}

pub fn check(tree: &Tree) -> Vec<Violation> {
    let mut out = Vec::new();
    let boundaries = boundary_policies(tree);
    let aliases: Vec<String> = boundaries
        .iter()
        .map(|(_, p)| format!("${{{}.{}.arn}}", p.rtype, p.name))
        .collect();
    let boundary = aliases.iter().fold(
        Target::arn(sample_arn(&format!("policy/{BOUNDARY_NAME}"))),
        |t, a| t.with_alias(a.clone()),
    );

    let mut any_role = false;
    for (module, role) in tree.resources().filter(|(_, r)| r.rtype == "aws_iam_role") {
        any_role = true;
        out.extend(check_role_boundary(tree, module, role, &aliases));
    }
    let roles = iam::roles(tree);
    let iam_writers: Vec<&Role> = roles.iter().filter(|r| writes_project_iam(r)).collect();

    match boundaries.as_slice() {
        [] if any_role => out.push(missing(
            "aws_iam_policy",
            format!(
                "no aws_iam_policy is named {BOUNDARY_NAME:?}, the permissions boundary every role must carry"
            ),
        )),
        [] => {}
        [(module, policy)] => out.extend(check_boundary_policy(
            tree,
            module,
            policy,
            &boundary,
            &aliases,
            &iam_writers,
        )),
        [_, more @ ..] => {
            for (_, p) in more {
                out.push(resource_violation(
                    p,
                    format!("a second {BOUNDARY_NAME:?}: the boundary is one policy of the account, created by one root"),
                ));
            }
        }
    }

    for role in &roles {
        out.extend(check_role_policies(role, &boundary, &aliases));
    }
    out
}

fn resource_violation(r: &Resource, message: String) -> Violation {
    Violation {
        file: r.file.clone(),
        address: r.address(),
        message,
    }
}

fn boundary_policies(tree: &Tree) -> Vec<(&ModuleDir, &Resource)> {
    tree.resources()
        .filter(|(m, r)| {
            r.rtype == "aws_iam_policy"
                && attr(&r.body, "name").map(|e| Ctx::new(tree, m).render(e))
                    == Some(BOUNDARY_NAME.to_owned())
        })
        .collect()
}

/// Whether a rendered value names the boundary: one of its references, or
/// `arn:<partition>:iam::<account>:policy/notejam-permissions-boundary`
/// with a partition and account that are either literal or interpolated.
pub fn names_the_boundary(value: &str, aliases: &[String]) -> bool {
    if aliases.iter().any(|a| a == value) {
        return true;
    }
    let interpolated = |f: &str| f.starts_with("${") && f.ends_with('}');
    match value.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            (interpolated(partition)
                || (partition.starts_with("aws")
                    && partition
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-')))
                && (interpolated(account)
                    || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && *resource == format!("policy/{BOUNDARY_NAME}")
        }
        _ => false,
    }
}

// ---------------------------------------------------------------- roles carry it

fn check_role_boundary(
    tree: &Tree,
    module: &ModuleDir,
    role: &Resource,
    aliases: &[String],
) -> Vec<Violation> {
    let Some(expr) = attr(&role.body, "permissions_boundary") else {
        return vec![resource_violation(
            role,
            format!(
                "has no permissions_boundary: every role must carry {BOUNDARY_NAME}, without which a role that writes IAM can make it an account administrator"
            ),
        )];
    };
    let mut problems = Vec::new();
    boundary_values(tree, module, expr, aliases, 0, &mut problems);
    problems.sort();
    problems.dedup();
    problems
        .into_iter()
        .map(|p| {
            resource_violation(
                role,
                format!("permissions_boundary can be {p}, not {BOUNDARY_NAME}"),
            )
        })
        .collect()
}

/// Collects, for every value `expr` can take that is not the boundary, a
/// description of it.
fn boundary_values(
    tree: &Tree,
    module: &ModuleDir,
    expr: &Expression,
    aliases: &[String],
    depth: usize,
    problems: &mut Vec<String>,
) {
    if depth > 12 {
        problems.push(format!("{expr} (too deep to follow)"));
        return;
    }
    let deeper = |m: &ModuleDir, e: &Expression, problems: &mut Vec<String>| {
        boundary_values(tree, m, e, aliases, depth + 1, problems)
    };
    match expr {
        Expression::Null => problems.push("null (no boundary at all)".into()),
        Expression::Parenthesis(inner) => deeper(module, inner, problems),
        Expression::Conditional(c) => {
            deeper(module, &c.true_expr, problems);
            deeper(module, &c.false_expr, problems);
        }
        Expression::Traversal(t) => {
            let names: Vec<&str> = t
                .operators
                .iter()
                .map_while(|op| match op {
                    TraversalOperator::GetAttr(n) => Some(n.as_str()),
                    _ => None,
                })
                .collect();
            let base = match &t.expr {
                Expression::Variable(v) => v.as_str(),
                _ => "",
            };
            match (base, names.as_slice()) {
                ("var", [name]) if names.len() == t.operators.len() => {
                    let default = module.variables.get(*name).and_then(|v| v.default.as_ref());
                    if let Some(d) = default {
                        deeper(module, d, problems);
                    }
                    let mut set = default.is_some();
                    for (caller, call) in tree.callers_of(&module.dir) {
                        if let Some(arg) = call.args.get(*name) {
                            set = true;
                            deeper(caller, arg, problems);
                        }
                    }
                    if !set {
                        problems.push(format!(
                            "anything: var.{name} has no default and no caller sets it"
                        ));
                    }
                }
                ("local", [name]) if names.len() == t.operators.len() => {
                    match module.locals.get(*name) {
                        Some(value) => deeper(module, value, problems),
                        None => problems.push(format!("local.{name}, which is not defined")),
                    }
                }
                _ => {
                    let text = Ctx::new(tree, module).render(expr);
                    if !names_the_boundary(&text, aliases) {
                        problems.push(format!("{text:?}"));
                    }
                }
            }
        }
        other => {
            let text = Ctx::new(tree, module).render(other);
            if !names_the_boundary(&text, aliases) {
                problems.push(format!("{text:?}"));
            }
        }
    }
}

// ---------------------------------------------------------------- the boundary holds

fn denied_outright(statements: &[Statement], action: &str, target: &Target) -> bool {
    statements.iter().any(|s| s.denies_outright(action, target))
}

/// Whether a condition is "unless the boundary is this one".
fn unless_bounded(c: &iam::Condition, aliases: &[String]) -> bool {
    matches!(c.test.as_str(), "StringNotEquals" | "ArnNotEquals")
        && c.variable.eq_ignore_ascii_case("iam:PermissionsBoundary")
        && !c.values.is_empty()
        && c.values.iter().all(|v| names_the_boundary(v, aliases))
}

/// Whether `action` on `target` is denied unless the request sets (or the
/// role changed carries) the boundary: a Deny whose only conditions are
/// that, or an outright Deny.
fn denied_unless_bounded(
    statements: &[Statement],
    action: &str,
    target: &Target,
    aliases: &[String],
) -> bool {
    statements.iter().any(|s| {
        !s.allow
            && s.applies_to(action, target)
            && s.conditions.iter().all(|c| unless_bounded(c, aliases))
    })
}

fn check_boundary_policy(
    tree: &Tree,
    module: &ModuleDir,
    policy: &Resource,
    boundary: &Target,
    aliases: &[String],
    iam_writers: &[&Role],
) -> Vec<Violation> {
    let Some(doc) = iam::policy_document(tree, module, policy) else {
        return vec![resource_violation(
            policy,
            "its policy is not a data.aws_iam_policy_document these checks can read".into(),
        )];
    };
    let s = &doc.statements;
    let mut lacks = Vec::new();
    for action in BOUNDED_ONLY {
        for target in [project_role(), foreign_role()] {
            if !denied_unless_bounded(s, action, &target, aliases) {
                lacks.push(format!(
                    "{action} on {} unless iam:PermissionsBoundary is {BOUNDARY_NAME}",
                    target.arn
                ));
            }
        }
    }
    for target in [project_role(), foreign_role()] {
        if !denied_outright(s, "iam:DeleteRolePermissionsBoundary", &target) {
            lacks.push(format!(
                "iam:DeleteRolePermissionsBoundary on {}",
                target.arn
            ));
        }
    }
    for action in BOUNDARY_CHANGES {
        if !denied_outright(s, action, boundary) {
            lacks.push(format!("{action} on the boundary itself"));
        }
    }
    for (action, resource) in [
        ("iam:CreateUser", "user/someone"),
        ("iam:CreateGroup", "group/some-group"),
        ("iam:CreateAccessKey", "user/someone"),
        ("iam:CreateLoginProfile", "user/someone"),
        ("iam:UpdateLoginProfile", "user/someone"),
    ] {
        let target = Target::arn(sample_arn(resource));
        if !denied_outright(s, action, &target) {
            lacks.push(format!("{action} on {}", target.arn));
        }
    }
    for name in ADMIN_POLICIES {
        if !denies_attaching(s, name) {
            lacks.push(format!("iam:AttachRolePolicy of the AWS managed {name}"));
        }
    }
    let foreign_policy = Target::arn(sample_arn("policy/AnAdministratorPolicy"));
    for (action, target) in [
        ("iam:PutRolePolicy", foreign_role()),
        ("iam:AttachRolePolicy", foreign_role()),
        ("iam:UpdateAssumeRolePolicy", foreign_role()),
        ("iam:PassRole", foreign_role()),
        ("sts:AssumeRole", foreign_role()),
        ("iam:CreatePolicyVersion", foreign_policy.clone()),
        ("iam:SetDefaultPolicyVersion", foreign_policy),
    ] {
        if !denied_outright(s, action, &target) {
            lacks.push(format!("{action} on {}", target.arn));
        }
    }
    let mut out: Vec<Violation> = lacks
        .into_iter()
        .map(|what| {
            resource_violation(
                policy,
                format!(
                    "{} does not deny {what}, so a bounded role could get past the boundary",
                    doc.address()
                ),
            )
        })
        .collect();
    for writer in iam_writers {
        let target = role_target(writer);
        let open: Vec<&str> = iam_writer_changes()
            .filter(|a| !denied_outright(s, a, &target))
            .collect();
        if !open.is_empty() {
            out.push(resource_violation(
                policy,
                format!(
                    "{} does not deny {} on {} ({}, which writes the project's IAM): a bounded role it makes or arms could change it, whatever its own policy denies",
                    doc.address(),
                    open.join(", "),
                    target.arn,
                    writer.resource.address(),
                ),
            ));
        }
    }
    out
}

/// Whether the role's own policies let it write another project role (make
/// one, or change one's policies, trust or boundary): then it can arm a
/// bounded role of its own to do what it may not.
fn writes_project_iam(role: &Role) -> bool {
    let target = project_role();
    role.policies.iter().any(|p| match p {
        Attached::Doc { doc, .. } => doc.statements.iter().any(|s| {
            s.allow
                && BOUNDED_ONLY
                    .iter()
                    .chain(SELF_CHANGES)
                    .any(|a| s.applies_to(a, &target))
        }),
        Attached::Managed { name, .. } => IAM_WRITING_MANAGED.contains(&name.as_str()),
        Attached::Unknown { .. } => false,
    })
}

/// A Deny of AttachRolePolicy on every role when `iam:PolicyARN` is the
/// AWS managed policy `name` (or outright).
fn denies_attaching(statements: &[Statement], name: &str) -> bool {
    let managed = Target::arn(format!("arn:aws:iam::aws:policy/{name}"));
    statements.iter().any(|s| {
        !s.allow
            && s.applies_to("iam:AttachRolePolicy", &project_role())
            && s.conditions.iter().all(|c| {
                matches!(
                    c.test.as_str(),
                    "ArnEquals" | "ArnLike" | "StringEquals" | "StringLike"
                ) && c.variable.eq_ignore_ascii_case("iam:PolicyARN")
                    && c.values.iter().any(|v| iam::covers(v, &managed))
            })
    })
}

// ---------------------------------------------------------------- roles that write IAM

fn role_violation(role: &Role, message: String) -> Violation {
    Violation {
        file: role.resource.file.clone(),
        address: role.resource.address(),
        message,
    }
}

/// The role's own target: its ARN (its rendered name in the sample
/// account) and its Terraform reference.
pub fn role_target(role: &Role) -> Target {
    Target::arn(sample_arn(&format!("role/{}", role.name))).with_alias(format!(
        "${{{}.{}.arn}}",
        role.resource.rtype, role.resource.name
    ))
}

fn check_role_policies(role: &Role, boundary: &Target, aliases: &[String]) -> Vec<Violation> {
    let docs: Vec<(&str, &PolicyDoc)> = role
        .policies
        .iter()
        .filter_map(|p| match p {
            Attached::Doc { via, doc } => Some((via.as_str(), doc)),
            _ => None,
        })
        .collect();
    let statements: Vec<Statement> = docs
        .iter()
        .flat_map(|(_, d)| d.statements.iter().cloned())
        .collect();
    let writes_all_iam = role.policies.iter().find_map(|p| match p {
        Attached::Managed { via, name } if IAM_WRITING_MANAGED.contains(&name.as_str()) => {
            Some(format!("{via} ({name})"))
        }
        _ => None,
    });
    // Who lets the role do `action` on `target`: an allow of its own
    // documents (conditions aside), or a managed policy that allows all IAM.
    let granted_by = |action: &str, target: &Target| -> Option<String> {
        docs.iter()
            .find_map(|(via, d)| {
                d.statements
                    .iter()
                    .find(|s| s.allow && s.applies_to(action, target))
                    .map(|s| format!("{} {} ({via})", d.address(), s.label))
            })
            .or_else(|| writes_all_iam.clone())
    };
    let mut out = Vec::new();

    for action in CREATE_OR_REBOUND {
        let target = project_role();
        let Some(by) = granted_by(action, &target) else {
            continue;
        };
        // The allow may carry the condition itself, or a Deny add it.
        let allow_bounded = docs.iter().all(|(_, d)| {
            d.statements
                .iter()
                .filter(|s| s.allow && s.applies_to(action, &target))
                .all(|s| {
                    s.conditions.iter().any(|c| {
                        c.test == "StringEquals"
                            && c.variable.eq_ignore_ascii_case("iam:PermissionsBoundary")
                            && !c.values.is_empty()
                            && c.values.iter().all(|v| names_the_boundary(v, aliases))
                    })
                })
        }) && writes_all_iam.is_none();
        if !allow_bounded && !denied_unless_bounded(&statements, action, &target, aliases) {
            out.push(role_violation(
                role,
                format!(
                    "{by} allows {action} without requiring iam:PermissionsBoundary = {BOUNDARY_NAME}, so it could make a role with no ceiling"
                ),
            ));
        }
    }

    let itself = role_target(role);
    if let Some(by) = SELF_CHANGES.iter().find_map(|a| granted_by(a, &itself)) {
        let open: Vec<&str> = SELF_CHANGES
            .iter()
            .copied()
            .filter(|a| !denied_outright(&statements, a, &itself))
            .collect();
        if !open.is_empty() {
            out.push(role_violation(
                role,
                format!(
                    "{by} reaches the role itself, and nothing denies it {}: it could widen its own permissions",
                    open.join(", ")
                ),
            ));
        }
    }

    if let Some(by) = BOUNDARY_CHANGES
        .iter()
        .find_map(|a| granted_by(a, boundary))
    {
        let open: Vec<&str> = BOUNDARY_CHANGES
            .iter()
            .copied()
            .filter(|a| !denied_outright(&statements, a, boundary))
            .collect();
        if !open.is_empty() {
            out.push(role_violation(
                role,
                format!(
                    "{by} reaches {BOUNDARY_NAME}, and nothing denies it {}: it could raise every role's ceiling",
                    open.join(", ")
                ),
            ));
        }
    }
    out
}

//! A small static evaluator for the expressions the contract rules look at.
//!
//! Two modes:
//! - [`Ctx::render`] turns an expression into text with locals, `each.key`
//!   and template pieces substituted but `var.*` kept symbolic, so a name
//!   reads `notejam-${var.environment}` whichever way it was written.
//! - [`Ctx::resolve`] follows `var.*` into every value it can take (its
//!   default and what each caller passes), so a retention of
//!   `var.daily_retention_days` is checked against every number an
//!   environment can give it.
//! - [`Ctx::strings`] lists every string a list expression can hold (literal
//!   lists, `for` expressions, `flatten`/`concat`/`distinct`, locals and
//!   list variables), each rendered like `render`, so a trust policy's
//!   `[for r in var.refs : "repo:${var.repo}:ref:${r}"]` reads as one
//!   subject per ref the variable can hold.

use std::collections::BTreeMap;

use hcl::Expression;
use hcl::expr::{ObjectKey, TemplateExpr, Traversal, TraversalOperator};

use crate::tree::{ModuleDir, Tree};

/// Deep enough for env root -> module -> nested module chains, shallow
/// enough to stop a self-referencing local.
const MAX_DEPTH: usize = 12;

/// A value an expression can take, or a note of why it could not be known.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Value(Expression),
    Unknown(String),
}

impl Resolved {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Resolved::Value(Expression::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Resolved::Value(Expression::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Resolved::Value(Expression::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Resolved::Value(Expression::String(s)) => format!("{s:?}"),
            Resolved::Value(e) => e.to_string(),
            Resolved::Unknown(why) => format!("<{why}>"),
        }
    }
}

/// Where an expression is evaluated: a module, and the `each` of the
/// for_each instance being looked at.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub tree: &'a Tree,
    pub module: &'a ModuleDir,
    pub each_key: Option<String>,
    pub each_value: Option<Expression>,
    /// Names bound by enclosing `for` expressions, innermost last.
    bindings: Vec<(String, Expression)>,
    depth: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(tree: &'a Tree, module: &'a ModuleDir) -> Self {
        Ctx {
            tree,
            module,
            each_key: None,
            each_value: None,
            bindings: Vec::new(),
            depth: 0,
        }
    }

    pub fn with_each(&self, key: String, value: Expression) -> Self {
        Ctx {
            each_key: Some(key),
            each_value: Some(value),
            ..self.clone()
        }
    }

    fn bind(&self, name: &str, value: Expression) -> Self {
        let mut ctx = self.clone();
        ctx.bindings.push((name.to_owned(), value));
        ctx
    }

    fn bound(&self, name: &str) -> Option<&Expression> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn deeper(&self) -> Option<Self> {
        (self.depth < MAX_DEPTH).then(|| Ctx {
            depth: self.depth + 1,
            ..self.clone()
        })
    }

    // ------------------------------------------------------------ render

    /// The expression as text, `var.*` left as `${var.name}`.
    pub fn render(&self, expr: &Expression) -> String {
        let Some(ctx) = self.deeper() else {
            return format!("${{{expr}}}");
        };
        match expr {
            Expression::String(s) => s.clone(),
            Expression::Number(n) => n.to_string(),
            Expression::Bool(b) => b.to_string(),
            Expression::TemplateExpr(t) => match t.as_ref() {
                TemplateExpr::QuotedString(raw) => ctx.render_template(raw),
                TemplateExpr::Heredoc(h) => ctx.render_template(&h.template),
            },
            Expression::Parenthesis(inner) => ctx.render(inner),
            Expression::Variable(v) => match ctx.bound(v.as_str()) {
                Some(value) => ctx.render(&value.clone()),
                None => format!("${{{expr}}}"),
            },
            Expression::Traversal(t) if ctx.bound_base(t).is_some() => {
                match ctx.resolve_traversal(t).as_slice() {
                    [Resolved::Value(value)] => ctx.render(value),
                    _ => format!("${{{expr}}}"),
                }
            }
            Expression::Traversal(t) => match ctx.traversal_root(t) {
                Some(("local", name, [])) => match ctx.module.locals.get(name) {
                    Some(value) => ctx.render(value),
                    None => format!("${{{expr}}}"),
                },
                Some(("each", "key", [])) => match &ctx.each_key {
                    Some(key) => key.clone(),
                    None => format!("${{{expr}}}"),
                },
                Some(("each", "value", [])) => match &ctx.each_value {
                    Some(value) => ctx.render(value),
                    None => format!("${{{expr}}}"),
                },
                _ => format!("${{{expr}}}"),
            },
            other => format!("${{{other}}}"),
        }
    }

    /// Substitutes every `${...}` of a template by the rendering of the
    /// expression inside it.
    fn render_template(&self, raw: &str) -> String {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            // "$${" is an escaped literal "${".
            if start > 0 && rest[..start].ends_with('$') {
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let inner_start = start + 2;
            let Some(len) = matching_brace(&rest[inner_start..]) else {
                out.push_str(&rest[start..]);
                return out;
            };
            let inner = rest[inner_start..inner_start + len].trim();
            match parse_expr(inner) {
                Some(e) => out.push_str(&self.render(&e)),
                None => {
                    out.push_str("${");
                    out.push_str(inner);
                    out.push('}');
                }
            }
            rest = &rest[inner_start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    // ------------------------------------------------------------ resolve

    /// Every value the expression can take.
    pub fn resolve(&self, expr: &Expression) -> Vec<Resolved> {
        let Some(ctx) = self.deeper() else {
            return vec![Resolved::Unknown(format!("{expr} (too deep)"))];
        };
        match expr {
            Expression::Null
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_)
            | Expression::Array(_)
            | Expression::Object(_) => vec![Resolved::Value(expr.clone())],
            Expression::TemplateExpr(_) => {
                let text = ctx.render(expr);
                if text.contains("${") {
                    vec![Resolved::Unknown(text)]
                } else {
                    vec![Resolved::Value(Expression::String(text))]
                }
            }
            Expression::Parenthesis(inner) => ctx.resolve(inner),
            Expression::Variable(v) => match ctx.bound(v.as_str()) {
                Some(value) => ctx.resolve(&value.clone()),
                None => vec![Resolved::Unknown(v.to_string())],
            },
            Expression::Conditional(c) => {
                let mut out = ctx.resolve(&c.true_expr);
                out.extend(ctx.resolve(&c.false_expr));
                out
            }
            Expression::Traversal(t) => ctx.resolve_traversal(t),
            Expression::FuncCall(call) => ctx.resolve_call(call),
            other => vec![Resolved::Unknown(other.to_string())],
        }
    }

    fn resolve_traversal(&self, t: &Traversal) -> Vec<Resolved> {
        let unknown = || {
            vec![Resolved::Unknown(
                Expression::Traversal(Box::new(t.clone())).to_string(),
            )]
        };
        if let Some(value) = self.bound_base(t) {
            return self
                .resolve(&value.clone())
                .into_iter()
                .flat_map(|b| self.apply_operators(b, &t.operators))
                .collect();
        }
        let Some((base, name, rest)) = self.traversal_root(t) else {
            return unknown();
        };
        let bases = match (base, name) {
            ("var", name) => self.variable_values(name),
            ("local", name) => match self.module.locals.get(name) {
                Some(value) => self.resolve(value),
                None => return unknown(),
            },
            ("each", "key") => match &self.each_key {
                Some(key) => vec![Resolved::Value(Expression::String(key.clone()))],
                None => return unknown(),
            },
            ("each", "value") => match &self.each_value {
                Some(value) => self.resolve(value),
                None => return unknown(),
            },
            _ => return unknown(),
        };
        bases
            .into_iter()
            .flat_map(|b| self.apply_operators(b, rest))
            .collect()
    }

    fn apply_operators(&self, value: Resolved, ops: &[TraversalOperator]) -> Vec<Resolved> {
        let Some((op, rest)) = ops.split_first() else {
            return vec![value];
        };
        let Resolved::Value(container) = value else {
            return vec![value];
        };
        let keys: Vec<Resolved> = match op {
            TraversalOperator::GetAttr(name) => {
                vec![Resolved::Value(Expression::String(name.to_string()))]
            }
            TraversalOperator::Index(index) => self.resolve(index),
            TraversalOperator::LegacyIndex(i) => vec![Resolved::Value(Expression::from(*i))],
            _ => return vec![Resolved::Unknown(format!("{container} (splat)"))],
        };
        keys.into_iter()
            .flat_map(|key| match (&container, &key) {
                (Expression::Object(obj), Resolved::Value(Expression::String(k))) => {
                    match object_get(obj, k) {
                        Some(item) => self.resolve(item),
                        None => vec![Resolved::Unknown(format!("no key {k:?}"))],
                    }
                }
                (Expression::Array(items), Resolved::Value(Expression::Number(n))) => {
                    match n.as_u64().and_then(|i| items.get(i as usize)) {
                        Some(item) => self.resolve(item),
                        None => vec![Resolved::Unknown(format!("no index {n}"))],
                    }
                }
                _ => vec![Resolved::Unknown(format!(
                    "{container}[{}]",
                    key.describe()
                ))],
            })
            .flat_map(|v| self.apply_operators(v, rest))
            .collect()
    }

    fn resolve_call(&self, call: &hcl::expr::FuncCall) -> Vec<Resolved> {
        let name = call.name.name.as_str();
        match (name, call.args.as_slice()) {
            ("toset" | "tolist" | "tostring" | "tonumber" | "tomap", [arg]) => self.resolve(arg),
            ("merge", args) => {
                // Objects merge key by key, later arguments winning; an
                // argument that cannot be known contributes nothing.
                let mut merged = hcl::Object::new();
                for arg in args {
                    for value in self.resolve(arg) {
                        if let Resolved::Value(Expression::Object(obj)) = value {
                            for (k, v) in obj {
                                merged.insert(k, v);
                            }
                        }
                    }
                }
                vec![Resolved::Value(Expression::Object(merged))]
            }
            _ => vec![Resolved::Unknown(format!("{}(...)", name))],
        }
    }

    /// The value bound to the base of `p[0]` or `p.name` by an enclosing
    /// `for`.
    fn bound_base(&self, t: &Traversal) -> Option<&Expression> {
        match &t.expr {
            Expression::Variable(v) => self.bound(v.as_str()),
            _ => None,
        }
    }

    // ------------------------------------------------------------ lists

    /// Every string a list expression can hold, each rendered as
    /// [`Ctx::render`] does (a variable with no known value stays
    /// `${var.name}`). Lists are followed through literals, `for`
    /// expressions (over collections that resolve), `flatten`, `concat`,
    /// `distinct`, `toset`, `tolist`, `compact`, `sort`, locals and
    /// variables (their default and every caller's value); a `for`'s `if`
    /// is ignored, so the result may hold more than the list ever does,
    /// never less. A piece that cannot be followed is rendered as a whole
    /// (`${...}`), which the rules treat as unknown.
    pub fn strings(&self, expr: &Expression) -> Vec<String> {
        let Some(ctx) = self.deeper() else {
            return vec![format!("${{{expr}}}")];
        };
        match expr {
            Expression::Array(items) => items.iter().flat_map(|i| ctx.strings(i)).collect(),
            Expression::Parenthesis(inner) => ctx.strings(inner),
            Expression::Conditional(c) => {
                let mut out = ctx.strings(&c.true_expr);
                out.extend(ctx.strings(&c.false_expr));
                out
            }
            Expression::ForExpr(f) => {
                let mut out = Vec::new();
                for collection in ctx.resolve(&f.collection_expr) {
                    let items: Vec<(Expression, Expression)> = match collection {
                        Resolved::Value(Expression::Array(items)) => items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Expression::from(i as u64), v))
                            .collect(),
                        Resolved::Value(Expression::Object(obj)) => obj
                            .into_iter()
                            .map(|(k, v)| (Expression::String(object_key(&k)), v))
                            .collect(),
                        _ => {
                            out.push(format!("${{{expr}}}"));
                            continue;
                        }
                    };
                    for (key, value) in items {
                        let mut inner = ctx.bind(f.value_var.as_str(), value);
                        if let Some(k) = &f.key_var {
                            inner = inner.bind(k.as_str(), key);
                        }
                        out.extend(inner.strings(&f.value_expr));
                    }
                }
                out
            }
            Expression::FuncCall(call)
                if matches!(
                    call.name.name.as_str(),
                    "flatten" | "concat" | "distinct" | "toset" | "tolist" | "compact" | "sort"
                ) =>
            {
                call.args.iter().flat_map(|a| ctx.strings(a)).collect()
            }
            Expression::Traversal(t) => match ctx.traversal_root(t) {
                Some(("local", name, [])) if ctx.bound_base(t).is_none() => {
                    match ctx.module.locals.get(name) {
                        Some(value) => ctx.strings(value),
                        None => vec![format!("${{{expr}}}")],
                    }
                }
                _ => ctx.resolved_strings(expr),
            },
            Expression::Variable(_) => ctx.resolved_strings(expr),
            other => vec![ctx.render(other)],
        }
    }

    /// `strings` of a reference: its resolved lists and strings, or the
    /// reference rendered when any value it can take is unknown.
    fn resolved_strings(&self, expr: &Expression) -> Vec<String> {
        let values = self.resolve(expr);
        let known = !values.is_empty()
            && values.iter().all(|v| {
                matches!(
                    v,
                    Resolved::Value(Expression::Array(_) | Expression::String(_))
                )
            });
        if !known {
            return vec![self.render(expr)];
        }
        values
            .into_iter()
            .flat_map(|v| match v {
                Resolved::Value(Expression::Array(items)) => {
                    items.iter().flat_map(|i| self.strings(i)).collect()
                }
                Resolved::Value(Expression::String(s)) => vec![s],
                _ => Vec::new(),
            })
            .collect()
    }

    /// A variable's default and whatever every caller of this module passes.
    fn variable_values(&self, name: &str) -> Vec<Resolved> {
        let mut out = Vec::new();
        if let Some(default) = self
            .module
            .variables
            .get(name)
            .and_then(|v| v.default.as_ref())
        {
            out.extend(self.resolve(default));
        }
        for (caller, call) in self.tree.callers_of(&self.module.dir) {
            if let Some(arg) = call.args.get(name) {
                let caller_ctx = Ctx {
                    module: caller,
                    each_key: None,
                    each_value: None,
                    bindings: Vec::new(),
                    ..self.clone()
                };
                out.extend(caller_ctx.resolve(arg));
            }
        }
        if out.is_empty() {
            out.push(Resolved::Unknown(format!(
                "var.{name} has no default and no caller sets it"
            )));
        }
        out
    }

    /// `var.x[...]` -> ("var", "x", rest of the operators).
    fn traversal_root<'t>(
        &self,
        t: &'t Traversal,
    ) -> Option<(&'t str, &'t str, &'t [TraversalOperator])> {
        let Expression::Variable(base) = &t.expr else {
            return None;
        };
        let (first, rest) = t.operators.split_first()?;
        let TraversalOperator::GetAttr(name) = first else {
            return None;
        };
        Some((base.as_str(), name.as_str(), rest))
    }

    // ------------------------------------------------------------ objects

    /// The keys an object expression (literal, local, merge(...)) resolves
    /// to, each with its value expression.
    pub fn object_entries(&self, expr: &Expression) -> BTreeMap<String, Expression> {
        let mut out = BTreeMap::new();
        for value in self.resolve(expr) {
            if let Resolved::Value(Expression::Object(obj)) = value {
                for (k, v) in obj {
                    out.insert(object_key(&k), v);
                }
            }
        }
        out
    }

    /// The instance keys of a `for_each`, when they can be known statically.
    pub fn for_each_instances(&self, expr: &Expression) -> Option<Vec<(String, Expression)>> {
        let mut out = Vec::new();
        for value in self.resolve(expr) {
            match value {
                Resolved::Value(Expression::Object(obj)) => {
                    out.extend(obj.into_iter().map(|(k, v)| (object_key(&k), v)));
                }
                Resolved::Value(Expression::Array(items)) => {
                    for item in items {
                        let text = self.render(&item);
                        out.push((text.clone(), Expression::String(text)));
                    }
                }
                _ => return None,
            }
        }
        Some(out)
    }
}

pub fn object_key(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(i) => i.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

fn object_get<'o>(
    obj: &'o hcl::Object<ObjectKey, Expression>,
    key: &str,
) -> Option<&'o Expression> {
    obj.iter()
        .find(|(k, _)| object_key(k) == key)
        .map(|(_, v)| v)
}

fn label_text(label: &hcl::BlockLabel) -> String {
    match label {
        hcl::BlockLabel::Identifier(i) => i.to_string(),
        hcl::BlockLabel::String(s) => s.clone(),
    }
}

/// Length of the text up to the `}` closing an interpolation, skipping
/// nested braces and quoted strings.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The expressions interpolated in a template string (`${...}`), skipping
/// escaped `$${`.
pub fn interpolations(raw: &str) -> Vec<Expression> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let escaped = start > 0 && rest[..start].ends_with('$');
        let inner_start = start + 2;
        let Some(len) = matching_brace(&rest[inner_start..]) else {
            break;
        };
        if !escaped && let Some(e) = parse_expr(rest[inner_start..inner_start + len].trim()) {
            out.push(e);
        }
        rest = &rest[inner_start + len + 1..];
    }
    out
}

/// Every `base.name` reference (such as `var.region` or `local.files`) in
/// an expression, templates included.
pub fn references(expr: &Expression, base: &str, out: &mut Vec<String>) {
    match expr {
        Expression::Traversal(t) => {
            if let (Expression::Variable(v), Some(TraversalOperator::GetAttr(name))) =
                (&t.expr, t.operators.first())
                && v.as_str() == base
            {
                out.push(name.to_string());
            }
            references(&t.expr, base, out);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    references(i, base, out);
                }
            }
        }
        Expression::TemplateExpr(t) => {
            let raw = match t.as_ref() {
                TemplateExpr::QuotedString(raw) => raw.as_str(),
                TemplateExpr::Heredoc(h) => h.template.as_str(),
            };
            for e in interpolations(raw) {
                references(&e, base, out);
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| references(e, base, out)),
        Expression::Object(obj) => {
            for (k, v) in obj {
                if let ObjectKey::Expression(k) = k {
                    references(k, base, out);
                }
                references(v, base, out);
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| references(e, base, out)),
        Expression::Parenthesis(inner) => references(inner, base, out),
        Expression::Conditional(c) => {
            references(&c.cond_expr, base, out);
            references(&c.true_expr, base, out);
            references(&c.false_expr, base, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => references(&u.expr, base, out),
            hcl::expr::Operation::Binary(b) => {
                references(&b.lhs_expr, base, out);
                references(&b.rhs_expr, base, out);
            }
        },
        Expression::ForExpr(f) => {
            references(&f.collection_expr, base, out);
            if let Some(k) = &f.key_expr {
                references(k, base, out);
            }
            references(&f.value_expr, base, out);
            if let Some(c) = &f.cond_expr {
                references(c, base, out);
            }
        }
        _ => {}
    }
}

/// Every `base.name` reference anywhere in a body.
pub fn body_references(body: &hcl::Body, base: &str, out: &mut Vec<String>) {
    for a in body.attributes() {
        references(&a.expr, base, out);
    }
    for b in body.blocks() {
        body_references(&b.body, base, out);
    }
}

fn parse_expr(text: &str) -> Option<Expression> {
    let body = hcl::parse(&format!("x = {text}\n")).ok()?;
    body.attributes().next().map(|a| a.expr.clone())
}

/// An attribute of a block body, by name.
pub fn attr<'b>(body: &'b hcl::Body, name: &str) -> Option<&'b Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == name)
        .map(|a| &a.expr)
}

/// Nested blocks of a body with the given name, static ones and the
/// `content` of `dynamic "name"` blocks alike.
pub fn blocks<'b>(body: &'b hcl::Body, name: &str) -> Vec<&'b hcl::Body> {
    let mut out: Vec<&hcl::Body> = body
        .blocks()
        .filter(|b| b.identifier.as_str() == name)
        .map(|b| &b.body)
        .collect();
    for dynamic in body.blocks().filter(|b| {
        b.identifier.as_str() == "dynamic"
            && b.labels.first().map(label_text).as_deref() == Some(name)
    }) {
        out.extend(
            dynamic
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "content")
                .map(|b| &b.body),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_sources(files.iter().copied()).unwrap()
    }

    fn first_attr(tree: &Tree, dir: &str, resource: &str, name: &str) -> Expression {
        let module = tree.module(std::path::Path::new(dir)).unwrap();
        let r = module
            .resources
            .iter()
            .find(|r| r.name == resource)
            .unwrap();
        attr(&r.body, name).unwrap().clone()
    }

    #[test]
    fn render_substitutes_locals_but_keeps_variables() {
        let t = tree(&[(
            "m/main.tf",
            r#"
            locals { name = "notejam-${var.environment}" }
            resource "aws_backup_plan" "p" { name = "${local.name}-daily" }
            "#,
        )]);
        let expr = first_attr(&t, "m", "p", "name");
        let ctx = Ctx::new(&t, t.module(std::path::Path::new("m")).unwrap());
        assert_eq!(ctx.render(&expr), "notejam-${var.environment}-daily");
    }

    #[test]
    fn resolve_follows_variables_into_every_caller() {
        let t = tree(&[
            (
                "mod/main.tf",
                r#"
                variable "days" { default = 35 }
                resource "x" "y" { days = var.days }
                "#,
            ),
            (
                "a/main.tf",
                r#"
                module "m" {
                  source = "../mod"
                  days   = 3
                }
                "#,
            ),
            (
                "b/main.tf",
                r#"
                locals { d = 9 }
                module "m" {
                  source = "../mod"
                  days   = local.d
                }
                "#,
            ),
        ]);
        let expr = first_attr(&t, "mod", "y", "days");
        let ctx = Ctx::new(&t, t.module(std::path::Path::new("mod")).unwrap());
        let mut values: Vec<f64> = ctx
            .resolve(&expr)
            .iter()
            .filter_map(Resolved::as_f64)
            .collect();
        values.sort_by(f64::total_cmp);
        assert_eq!(values, vec![3.0, 9.0, 35.0]);
    }

    #[test]
    fn resolve_indexes_maps_with_each_key() {
        let t = tree(&[(
            "m/main.tf",
            r#"
            variable "ret" {
              default = { app = 30, audit = 0 }
            }
            resource "aws_cloudwatch_log_group" "g" {
              for_each          = toset(["app", "audit"])
              retention_in_days = var.ret[each.key]
            }
            "#,
        )]);
        let module = t.module(std::path::Path::new("m")).unwrap();
        let expr = first_attr(&t, "m", "g", "retention_in_days");
        let ctx =
            Ctx::new(&t, module).with_each("audit".into(), Expression::String("audit".into()));
        assert_eq!(ctx.resolve(&expr)[0].as_f64(), Some(0.0));
    }

    #[test]
    fn merge_collects_keys_from_locals_and_literals() {
        let t = tree(&[(
            "m/main.tf",
            r#"
            locals { base = { Project = "notejam", Tier = "web" } }
            resource "x" "y" { tags = merge(local.base, { Name = "n" }) }
            "#,
        )]);
        let module = t.module(std::path::Path::new("m")).unwrap();
        let expr = first_attr(&t, "m", "y", "tags");
        let keys: Vec<String> = Ctx::new(&t, module)
            .object_entries(&expr)
            .into_keys()
            .collect();
        assert_eq!(keys, vec!["Name", "Project", "Tier"]);
    }

    #[test]
    fn escaped_interpolation_stays_literal() {
        let t = tree(&[(
            "m/main.tf",
            r#"resource "x" "y" { s = "a-$${b}-${local.c}" }
            locals { c = "d" }"#,
        )]);
        let module = t.module(std::path::Path::new("m")).unwrap();
        let expr = first_attr(&t, "m", "y", "s");
        assert_eq!(Ctx::new(&t, module).render(&expr), "a-${b}-d");
    }

    #[test]
    fn strings_expand_for_expressions_over_variables_and_flatten() {
        let t = tree(&[
            (
                "mod/main.tf",
                r#"
                variable "refs" { default = ["refs/heads/main"] }
                variable "envs" { default = ["a", "b"] }
                locals {
                  sub  = "repo:${var.repo}"
                  subs = flatten([
                    for e in var.envs : [for r in var.refs : "${local.sub}:environment:${e}:ref:${r}"]
                  ])
                }
                resource "x" "y" { values = local.subs }
                "#,
            ),
            (
                "root/main.tf",
                r#"
                module "m" {
                  source = "../mod"
                  refs   = ["refs/heads/release"]
                }
                "#,
            ),
        ]);
        let expr = first_attr(&t, "mod", "y", "values");
        let ctx = Ctx::new(&t, t.module(std::path::Path::new("mod")).unwrap());
        let mut got = ctx.strings(&expr);
        got.sort();
        assert_eq!(
            got,
            vec![
                "repo:${var.repo}:environment:a:ref:refs/heads/main",
                "repo:${var.repo}:environment:a:ref:refs/heads/release",
                "repo:${var.repo}:environment:b:ref:refs/heads/main",
                "repo:${var.repo}:environment:b:ref:refs/heads/release",
            ]
        );
    }

    #[test]
    fn strings_keep_what_cannot_be_followed_as_one_unknown_piece() {
        let t = tree(&[(
            "m/main.tf",
            r#"
            locals { g = ["x", "y"] }
            resource "x" "y" {
              a = [for g in local.g : "arn:${g}/*"]
              b = [for v in var.unset : "p-${v}"]
              c = concat(["one"], var.unset)
            }
            "#,
        )]);
        let module = t.module(std::path::Path::new("m")).unwrap();
        let ctx = Ctx::new(&t, module);
        let get = |name| ctx.strings(&first_attr(&t, "m", "y", name));
        assert_eq!(get("a"), vec!["arn:x/*", "arn:y/*"]);
        assert_eq!(get("b").len(), 1);
        assert!(get("b")[0].starts_with("${"), "{:?}", get("b"));
        assert_eq!(get("c"), vec!["one", "${var.unset}"]);
    }
}

//! IAM as the Terraform writes it: `aws_iam_policy_document` data sources
//! read into statements, and every `aws_iam_role` with its trust policy and
//! the policies attached to it (inline `aws_iam_role_policy`, customer
//! `aws_iam_policy` through `aws_iam_role_policy_attachment`, AWS managed
//! policies by name). Values are listed with [`Ctx::strings`], so a
//! statement built from locals and `for` expressions reads as the strings it
//! holds.

use hcl::Expression;
use hcl::expr::TraversalOperator;

use crate::eval::{Ctx, attr, blocks};
use crate::tree::{ModuleDir, Resource, Tree};

/// The condition keys of GitHub's OIDC tokens in IAM.
pub const GITHUB_AUD: &str = "token.actions.githubusercontent.com:aud";
pub const GITHUB_SUB: &str = "token.actions.githubusercontent.com:sub";

#[derive(Debug, Clone)]
pub struct Condition {
    pub test: String,
    pub variable: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: String,
    pub identifiers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    /// The statement's `sid`, or its position (`statement 2`).
    pub label: String,
    pub allow: bool,
    pub actions: Vec<String>,
    /// `not_actions` was used: `actions` lists what is excluded.
    pub not_actions: bool,
    pub resources: Vec<String>,
    /// `not_resources` was used: `resources` lists what is excluded.
    pub not_resources: bool,
    pub principals: Vec<Principal>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// Whether one of the statement's actions matches `action` (IAM's
    /// case-insensitive `*`/`?` matching); always for `not_actions`, which
    /// grants everything but what it lists.
    pub fn grants(&self, action: &str) -> bool {
        self.not_actions || self.actions.iter().any(|a| glob(a, action))
    }

    /// Whether the statement lets a role be assumed with a web identity.
    /// Only a trust policy's statements do, and IAM refuses a Resource in
    /// those, so a statement with resources (a permission policy's, such as
    /// the boundary's `*` on `*`) is none.
    pub fn is_web_identity_trust(&self) -> bool {
        self.allow
            && self.grants("sts:AssumeRoleWithWebIdentity")
            && self.resources.is_empty()
            && !self.not_resources
    }

    pub fn conditions_on<'s>(&'s self, variable: &'s str) -> impl Iterator<Item = &'s Condition> {
        self.conditions
            .iter()
            .filter(move |c| c.variable.eq_ignore_ascii_case(variable))
    }

    /// Whether a request for `action` on `target` is in the statement's
    /// scope (its actions and resources, `not_` forms included), before
    /// any condition.
    pub fn applies_to(&self, action: &str, target: &Target) -> bool {
        let resource = self.resources.iter().any(|r| covers(r, target));
        self.grants(action) && resource != self.not_resources
    }

    /// A Deny that refuses `action` on `target` whatever the request's
    /// context (no conditions).
    pub fn denies_outright(&self, action: &str, target: &Target) -> bool {
        !self.allow && self.conditions.is_empty() && self.applies_to(action, target)
    }
}

/// One resource a request is about, for [`Statement::applies_to`]: its ARN
/// (in a sample account, `arn:aws:iam::111122223333:role/x`) and the
/// references that stand for it in the Terraform (`${aws_iam_role.x.arn}`).
#[derive(Debug, Clone)]
pub struct Target {
    pub arn: String,
    pub aliases: Vec<String>,
}

impl Target {
    pub fn arn(arn: impl Into<String>) -> Self {
        Target {
            arn: arn.into(),
            aliases: Vec::new(),
        }
    }

    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }
}

/// Whether a statement's resource pattern covers `target`: one of its
/// aliases exactly, or its ARN by IAM's `*`/`?` matching, where an
/// interpolation left in the pattern (`${data.aws_partition.current.partition}`,
/// `${data.aws_caller_identity.current.account_id}`) stands for one field
/// of an ARN: any text without `:` or `/`. So `role/notejam-*` of any
/// partition and account covers `role/notejam-web`, while `${var.arn}`
/// covers no ARN, only the alias `${var.arn}`.
pub fn covers(pattern: &str, target: &Target) -> bool {
    if target.aliases.iter().any(|a| a == pattern) {
        return true;
    }
    let tokens = pattern_tokens(pattern);
    let text: Vec<char> = target.arn.chars().collect();
    match_tokens(&tokens, &text)
}

#[derive(Debug, PartialEq)]
enum Token {
    Char(char),
    /// `?`
    One,
    /// `*`
    Any,
    /// `${...}`: one ARN field.
    Field,
}

fn pattern_tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
            let mut depth = 0usize;
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            out.push(Token::Field);
            i = j + 1;
            continue;
        }
        out.push(match chars[i] {
            '*' => Token::Any,
            '?' => Token::One,
            c => Token::Char(c),
        });
        i += 1;
    }
    out
}

fn match_tokens(tokens: &[Token], text: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Char(c) => text.first() == Some(c) && match_tokens(rest, &text[1..]),
        Token::One => !text.is_empty() && match_tokens(rest, &text[1..]),
        Token::Any => (0..=text.len()).any(|i| match_tokens(rest, &text[i..])),
        Token::Field => {
            let field = text
                .iter()
                .position(|c| *c == ':' || *c == '/')
                .unwrap_or(text.len());
            (0..=field).any(|i| match_tokens(rest, &text[i..]))
        }
    }
}

/// One `data "aws_iam_policy_document"`.
pub struct PolicyDoc<'a> {
    pub module: &'a ModuleDir,
    pub data: &'a Resource,
    pub statements: Vec<Statement>,
}

impl PolicyDoc<'_> {
    pub fn address(&self) -> String {
        format!("data.{}.{}", self.data.rtype, self.data.name)
    }
}

/// A policy attached to a role, as far as it can be known statically.
pub enum Attached<'a> {
    /// A policy document of this tree; `via` names the attaching resource.
    Doc { via: String, doc: PolicyDoc<'a> },
    /// An AWS managed policy, by name (`ReadOnlyAccess`).
    Managed { via: String, name: String },
    /// Something the checks cannot read (a variable, jsonencode(...)).
    Unknown { via: String, what: String },
}

pub struct Role<'a> {
    pub module: &'a ModuleDir,
    pub resource: &'a Resource,
    /// The role's `name`, rendered (`notejam-${var.environment}-deploy`).
    pub name: String,
    /// The trust policy, or why it cannot be read.
    pub trust: Result<PolicyDoc<'a>, String>,
    pub policies: Vec<Attached<'a>>,
}

impl Role<'_> {
    /// The web-identity statements of the trust policy.
    pub fn web_identity_trusts(&self) -> Vec<&Statement> {
        match &self.trust {
            Ok(doc) => doc
                .statements
                .iter()
                .filter(|s| s.is_web_identity_trust())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Every policy document of the tree.
pub fn documents(tree: &Tree) -> Vec<PolicyDoc<'_>> {
    tree.data_sources("aws_iam_policy_document")
        .map(|(module, data)| read_document(tree, module, data))
        .collect()
}

fn read_document<'a>(tree: &'a Tree, module: &'a ModuleDir, data: &'a Resource) -> PolicyDoc<'a> {
    let ctx = Ctx::new(tree, module);
    // Each value once (a variable's default and its callers often agree).
    let strings = |body: &hcl::Body, name: &str| -> Option<Vec<String>> {
        attr(body, name).map(|e| {
            let mut seen = std::collections::BTreeSet::new();
            ctx.strings(e)
                .into_iter()
                .filter(|v| seen.insert(v.clone()))
                .collect()
        })
    };
    let statements = blocks(&data.body, "statement")
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let label = attr(body, "sid")
                .map(|e| format!("statement {:?}", ctx.render(e)))
                .unwrap_or_else(|| format!("statement {}", i + 1));
            let allow = attr(body, "effect")
                .map(|e| ctx.render(e) != "Deny")
                .unwrap_or(true);
            let (actions, not_actions) = match strings(body, "not_actions") {
                Some(a) => (a, true),
                None => (strings(body, "actions").unwrap_or_default(), false),
            };
            let (resources, not_resources) = match strings(body, "not_resources") {
                Some(r) => (r, true),
                None => (strings(body, "resources").unwrap_or_default(), false),
            };
            let principals = blocks(body, "principals")
                .into_iter()
                .chain(blocks(body, "not_principals"))
                .map(|p| Principal {
                    kind: attr(p, "type").map(|e| ctx.render(e)).unwrap_or_default(),
                    identifiers: strings(p, "identifiers").unwrap_or_default(),
                })
                .collect();
            let conditions = blocks(body, "condition")
                .into_iter()
                .map(|c| Condition {
                    test: attr(c, "test").map(|e| ctx.render(e)).unwrap_or_default(),
                    variable: attr(c, "variable")
                        .map(|e| ctx.render(e))
                        .unwrap_or_default(),
                    values: strings(c, "values").unwrap_or_default(),
                })
                .collect();
            Statement {
                label,
                allow,
                actions,
                not_actions,
                resources,
                not_resources,
                principals,
                conditions,
            }
        })
        .collect();
    PolicyDoc {
        module,
        data,
        statements,
    }
}

/// Every role of the tree with what is attached to it (in its own module).
pub fn roles(tree: &Tree) -> Vec<Role<'_>> {
    let mut out = Vec::new();
    for module in &tree.modules {
        let ctx = Ctx::new(tree, module);
        for role in module
            .resources
            .iter()
            .filter(|r| r.rtype == "aws_iam_role")
        {
            let trust = match attr(&role.body, "assume_role_policy") {
                None => Err("has no assume_role_policy".to_owned()),
                Some(e) => document_ref(tree, module, e).ok_or_else(|| {
                    format!(
                        "assume_role_policy is {}, not a data.aws_iam_policy_document these checks can read",
                        ctx.render(e)
                    )
                }),
            };
            let mut policies = Vec::new();
            for r in &module.resources {
                let via = format!("{}.{}", r.rtype, r.name);
                let targets_role = attr(&r.body, "role")
                    .and_then(reference)
                    .is_some_and(|(t, n)| t == "aws_iam_role" && n == role.name);
                if !targets_role {
                    continue;
                }
                match r.rtype.as_str() {
                    "aws_iam_role_policy" => policies.push(match attr(&r.body, "policy") {
                        Some(e) => match document_ref(tree, module, e) {
                            Some(doc) => Attached::Doc { via, doc },
                            None => Attached::Unknown {
                                via,
                                what: ctx.render(e),
                            },
                        },
                        None => Attached::Unknown {
                            via,
                            what: "no policy".into(),
                        },
                    }),
                    "aws_iam_role_policy_attachment" => {
                        let Some(arn) = attr(&r.body, "policy_arn") else {
                            continue;
                        };
                        policies.push(attached_arn(tree, module, &ctx, via, arn));
                    }
                    _ => {}
                }
            }
            // Policies given on the role itself.
            if let Some(arns) = attr(&role.body, "managed_policy_arns") {
                for arn in ctx.strings(arns) {
                    policies.push(managed_or_unknown(
                        format!("{}.{} managed_policy_arns", role.rtype, role.name),
                        arn,
                    ));
                }
            }
            for _ in blocks(&role.body, "inline_policy") {
                policies.push(Attached::Unknown {
                    via: format!("{}.{} inline_policy", role.rtype, role.name),
                    what: "an inline_policy block".into(),
                });
            }
            out.push(Role {
                module,
                resource: role,
                name: attr(&role.body, "name")
                    .map(|e| ctx.render(e))
                    .unwrap_or_default(),
                trust,
                policies,
            });
        }
    }
    out
}

fn attached_arn<'a>(
    tree: &'a Tree,
    module: &'a ModuleDir,
    ctx: &Ctx,
    via: String,
    arn: &Expression,
) -> Attached<'a> {
    if let Some((t, n)) = reference(arn)
        && t == "aws_iam_policy"
    {
        let policy = module
            .resources
            .iter()
            .find(|p| p.rtype == "aws_iam_policy" && p.name == n)
            .and_then(|p| attr(&p.body, "policy"));
        return match policy.and_then(|e| document_ref(tree, module, e)) {
            Some(doc) => Attached::Doc { via, doc },
            None => Attached::Unknown {
                via,
                what: format!("aws_iam_policy.{n} without a readable policy document"),
            },
        };
    }
    managed_or_unknown(via, ctx.render(arn))
}

fn managed_or_unknown<'a>(via: String, arn: String) -> Attached<'a> {
    match arn.split_once(":iam::aws:policy/") {
        Some((_, name)) if !name.contains("${") => Attached::Managed {
            via,
            name: name.to_owned(),
        },
        _ => Attached::Unknown { via, what: arn },
    }
}

/// The policy document an `aws_iam_policy`'s `policy` argument names
/// (`data.aws_iam_policy_document.NAME.json` of its module), read.
pub fn policy_document<'a>(
    tree: &'a Tree,
    module: &'a ModuleDir,
    policy: &'a Resource,
) -> Option<PolicyDoc<'a>> {
    attr(&policy.body, "policy").and_then(|e| document_ref(tree, module, e))
}

/// `data.aws_iam_policy_document.NAME.json` of this module, read.
fn document_ref<'a>(
    tree: &'a Tree,
    module: &'a ModuleDir,
    expr: &Expression,
) -> Option<PolicyDoc<'a>> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let names = attr_names(t);
    let [base, rtype, name, ..] = names.as_slice() else {
        return None;
    };
    if *base != "data" || *rtype != "aws_iam_policy_document" {
        return None;
    }
    module
        .data_sources
        .iter()
        .find(|d| d.rtype == "aws_iam_policy_document" && d.name == *name)
        .map(|d| read_document(tree, module, d))
}

/// `TYPE.NAME...` of a resource reference such as `aws_iam_role.x.id` or
/// `aws_iam_role.x[0].name`.
pub fn reference(expr: &Expression) -> Option<(String, String)> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    match attr_names(t).as_slice() {
        [rtype, name, ..] if *rtype != "data" && *rtype != "var" && *rtype != "local" => {
            Some((rtype.to_string(), name.to_string()))
        }
        _ => None,
    }
}

/// The base and every attribute name of a traversal, index steps skipped.
fn attr_names(t: &hcl::expr::Traversal) -> Vec<&str> {
    let Expression::Variable(base) = &t.expr else {
        return Vec::new();
    };
    let mut out = vec![base.as_str()];
    out.extend(t.operators.iter().filter_map(|op| match op {
        TraversalOperator::GetAttr(name) => Some(name.as_str()),
        _ => None,
    }));
    out
}

/// IAM's matching of an action or resource pattern: `*` any run of
/// characters, `?` one, case-insensitive (as IAM matches action names).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("*", "kms:Decrypt"));
        assert!(glob("kms:*", "KMS:decrypt"));
        assert!(glob("s3:Get?bject", "s3:GetObject"));
        assert!(!glob("s3:Put*", "s3:GetObject"));
        assert!(glob(
            "arn:aws:s3:::*",
            "arn:aws:s3:::notejam-tfstate-1-us-east-1/x"
        ));
        assert!(!glob("ec2:CreateTags", "ec2:CreateTagsX"));
    }

    #[test]
    fn resource_patterns_cover_arns_and_references() {
        let role = Target::arn("arn:aws:iam::111122223333:role/notejam-terraform-apply")
            .with_alias("${aws_iam_role.apply.arn}");
        let p = "${data.aws_partition.current.partition}";
        let a = "${data.aws_caller_identity.current.account_id}";
        assert!(covers(&format!("arn:{p}:iam::{a}:role/notejam-*"), &role));
        assert!(covers("*", &role));
        assert!(covers("${aws_iam_role.apply.arn}", &role));
        assert!(!covers("${aws_iam_role.other.arn}", &role));
        // An interpolation is one ARN field, never a whole ARN.
        assert!(!covers("${var.role_arn}", &role));
        assert!(!covers(&format!("arn:{p}:iam::{a}:role/njtui-*"), &role));
        assert!(!covers(
            &format!("arn:{p}:iam::{a}:policy/notejam-*"),
            &role
        ));
        assert!(!covers("arn:aws:iam::444455556666:role/*", &role));
    }

    #[test]
    fn statements_apply_through_not_resources() {
        let s = Statement {
            label: "s".into(),
            allow: false,
            actions: vec!["iam:Put*".into(), "sts:AssumeRole".into()],
            not_actions: false,
            resources: vec!["arn:aws:iam::*:role/notejam-*".into()],
            not_resources: true,
            principals: Vec::new(),
            conditions: Vec::new(),
        };
        let ours = Target::arn("arn:aws:iam::111122223333:role/notejam-web");
        let theirs = Target::arn("arn:aws:iam::111122223333:role/Admin");
        assert!(!s.denies_outright("iam:PutRolePolicy", &ours));
        assert!(s.denies_outright("iam:PutRolePolicy", &theirs));
        assert!(s.denies_outright("sts:AssumeRole", &theirs));
        assert!(!s.denies_outright("iam:GetRole", &theirs));

        // A permission statement of "*" is not a trust, whatever it grants.
        let everything = Statement {
            allow: true,
            actions: vec!["*".into()],
            resources: vec!["*".into()],
            not_resources: false,
            ..s
        };
        assert!(!everything.is_web_identity_trust());
        let trust = Statement {
            resources: Vec::new(),
            ..everything
        };
        assert!(trust.is_web_identity_trust());
    }

    #[test]
    fn roles_collect_trust_inline_customer_and_managed_policies() {
        let tree = Tree::from_sources([(
            "m/main.tf",
            r#"
            data "aws_iam_policy_document" "assume" {
              statement {
                actions = ["sts:AssumeRoleWithWebIdentity"]
                condition {
                  test     = "StringEquals"
                  variable = "token.actions.githubusercontent.com:sub"
                  values   = [for r in ["refs/heads/main"] : "repo:o/r:ref:${r}"]
                }
              }
            }
            data "aws_iam_policy_document" "inline" {
              statement {
                sid       = "One"
                effect    = "Deny"
                actions   = ["s3:*"]
                resources = ["*"]
              }
            }
            data "aws_iam_policy_document" "customer" {
              statement {
                not_actions = ["iam:*"]
                resources   = ["*"]
              }
            }
            resource "aws_iam_role" "r" {
              name               = "x-${var.e}"
              assume_role_policy = data.aws_iam_policy_document.assume.json
            }
            resource "aws_iam_role_policy" "p" {
              role   = aws_iam_role.r.id
              policy = data.aws_iam_policy_document.inline.json
            }
            resource "aws_iam_policy" "c" {
              policy = data.aws_iam_policy_document.customer.json
            }
            resource "aws_iam_role_policy_attachment" "c" {
              role       = aws_iam_role.r.name
              policy_arn = aws_iam_policy.c.arn
            }
            resource "aws_iam_role_policy_attachment" "m" {
              role       = aws_iam_role.r.name
              policy_arn = "arn:${local.p}:iam::aws:policy/ReadOnlyAccess"
            }
            resource "aws_iam_role_policy_attachment" "v" {
              role       = aws_iam_role.r.name
              policy_arn = var.other
            }
            "#,
        )])
        .unwrap();
        let roles = roles(&tree);
        assert_eq!(roles.len(), 1);
        let role = &roles[0];
        assert_eq!(role.name, "x-${var.e}");
        let trust = role.web_identity_trusts();
        assert_eq!(trust.len(), 1);
        assert_eq!(
            trust[0].conditions_on(GITHUB_SUB).next().unwrap().values,
            vec!["repo:o/r:ref:refs/heads/main"]
        );
        let kinds: Vec<String> = role
            .policies
            .iter()
            .map(|p| match p {
                Attached::Doc { via, doc } => format!(
                    "{via}: doc {} ({} allow, not_actions {})",
                    doc.address(),
                    doc.statements[0].allow,
                    doc.statements[0].not_actions
                ),
                Attached::Managed { via, name } => format!("{via}: managed {name}"),
                Attached::Unknown { via, what } => format!("{via}: unknown {what}"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "aws_iam_role_policy.p: doc data.aws_iam_policy_document.inline (false allow, not_actions false)",
                "aws_iam_role_policy_attachment.c: doc data.aws_iam_policy_document.customer (true allow, not_actions true)",
                "aws_iam_role_policy_attachment.m: managed ReadOnlyAccess",
                "aws_iam_role_policy_attachment.v: unknown ${var.other}",
            ]
        );
    }
}

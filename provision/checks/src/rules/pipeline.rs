//! The pipeline's roles, assumed with GitHub's OIDC tokens
//! (provision/README.md, "The pipeline's roles"):
//!
//! - every web-identity trust requires `aud = sts.amazonaws.com` and pins
//!   `sub` to the repository's customized subject
//!   `repo:<owner>/<repo>:<context>:ref:<ref>` with `StringEquals` and an
//!   exact ref; only a pull-request trust may use `StringLike`, and then
//!   only as `repo:<owner>/<repo>:pull_request:ref:refs/pull/*/merge`;
//! - a role pull requests can assume (or any role whose subject is not
//!   pinned) holds no AWS managed policy and nothing that reads the
//!   Terraform state (bucket or key) or secrets;
//! - a role GitHub can assume grants no wildcard action on `"*"`, holds AWS
//!   managed policies only if it is one of the Terraform roles, and tags
//!   instances only under `aws:TagKeys` and resource-tag limits.

use crate::iam::{self, Attached, GITHUB_AUD, GITHUB_SUB, PolicyDoc, Role, Statement};
use crate::rules::Violation;
use crate::tree::Tree;

/// The roles that run Terraform: they need rights no hand-written list
/// keeps up with (ReadOnlyAccess, PowerUserAccess); their trust is pinned
/// to main and to the infra environments.
const TERRAFORM_ROLES: &[&str] = &["notejam-terraform-plan", "notejam-terraform-apply"];

/// The only subject ref a pull-request trust may match.
const PULL_REQUEST_REF: &str = "refs/pull/*/merge";

pub fn check(tree: &Tree) -> Vec<Violation> {
    let mut out = Vec::new();
    for doc in iam::documents(tree) {
        for s in doc.statements.iter().filter(|s| s.is_web_identity_trust()) {
            out.extend(check_trust(&doc, s));
        }
    }
    for role in iam::roles(tree) {
        out.extend(check_role(&role));
    }
    out
}

// ---------------------------------------------------------------- trust

fn doc_violation(doc: &PolicyDoc, s: &Statement, message: String) -> Violation {
    Violation {
        file: doc.data.file.clone(),
        address: doc.address(),
        message: format!("{}: {message}", s.label),
    }
}

fn check_trust(doc: &PolicyDoc, s: &Statement) -> Vec<Violation> {
    let mut out = Vec::new();
    let aud: Vec<_> = s.conditions_on(GITHUB_AUD).collect();
    let aud_ok = !aud.is_empty()
        && aud
            .iter()
            .all(|c| c.test == "StringEquals" && c.values == ["sts.amazonaws.com"]);
    if !aud_ok {
        out.push(doc_violation(
            doc,
            s,
            format!(
                "a GitHub OIDC trust must require {GITHUB_AUD} StringEquals [\"sts.amazonaws.com\"]"
            ),
        ));
    }
    let subs: Vec<_> = s.conditions_on(GITHUB_SUB).collect();
    if subs.is_empty() {
        out.push(doc_violation(
            doc,
            s,
            format!(
                "does not pin {GITHUB_SUB}: any workflow of any repository could assume the role"
            ),
        ));
    }
    for c in subs {
        if c.values.is_empty() {
            out.push(doc_violation(
                doc,
                s,
                format!("the {GITHUB_SUB} condition has no values"),
            ));
        }
        for value in &c.values {
            match subject(value) {
                Err(why) => out.push(doc_violation(doc, s, format!("sub {value:?} {why}"))),
                Ok(Subject::PullRequest) => {
                    if c.test != "StringLike" {
                        out.push(doc_violation(
                            doc,
                            s,
                            format!(
                                "sub {value:?} is a pull-request pattern: it needs StringLike (found {})",
                                c.test
                            ),
                        ));
                    }
                }
                Ok(Subject::Pinned) => {
                    if c.test != "StringEquals" {
                        out.push(doc_violation(
                            doc,
                            s,
                            format!(
                                "sub {value:?} must be matched with StringEquals (found {}), so nothing but that exact subject matches",
                                c.test
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Subject {
    /// `repo:R:pull_request:ref:refs/pull/*/merge`.
    PullRequest,
    /// One exact subject with an exact ref.
    Pinned,
}

/// Reads a subject of the customized form
/// `repo:<owner>/<repo>:<context>:ref:<ref>`, where the context is
/// `environment:<name>`, `ref:<ref>` (then the same ref) or `pull_request`.
fn subject(value: &str) -> Result<Subject, String> {
    let wild = |s: &str| s.contains('*') || s.contains('?');
    let Some(rest) = value.strip_prefix("repo:") else {
        return Err("does not start with repo:<owner>/<repo>".into());
    };
    let Some((repo, rest)) = rest.split_once(':') else {
        return Err("names no context and ref after the repository".into());
    };
    if repo.is_empty() || wild(repo) {
        return Err("must name one repository, without wildcards".into());
    }
    let exact_ref = |r: &str| -> Result<(), String> {
        if r.contains("${") {
            Err(format!("has a ref that cannot be read statically ({r})"))
        } else if wild(r) {
            Err(format!(
                "matches any ref like {r:?}: pin an exact ref such as refs/heads/main"
            ))
        } else if !r.starts_with("refs/") {
            Err(format!(
                "has ref {r:?}, which is not a full ref (refs/heads/...)"
            ))
        } else {
            Ok(())
        }
    };
    if rest == "pull_request" {
        return Err("is in GitHub's default form; the repository's customized subject is repo:<owner>/<repo>:pull_request:ref:refs/pull/<n>/merge".into());
    }
    if let Some(r) = rest.strip_prefix("pull_request:ref:") {
        return if r == PULL_REQUEST_REF {
            Ok(Subject::PullRequest)
        } else {
            Err(format!(
                "is a pull-request subject whose ref is not {PULL_REQUEST_REF:?}"
            ))
        };
    }
    if let Some(rest) = rest.strip_prefix("environment:") {
        let Some((env, r)) = rest.split_once(":ref:") else {
            return Err("names an environment but no ref (:ref:<ref>): any branch that reaches the environment could assume the role".into());
        };
        if env.is_empty() || wild(env) {
            return Err("must name one environment, without wildcards".into());
        }
        exact_ref(r)?;
        return Ok(Subject::Pinned);
    }
    if let Some(rest) = rest.strip_prefix("ref:") {
        // The context of a job without environment is its ref; the ref
        // claim follows and is the same.
        let Some((context_ref, r)) = rest.split_once(":ref:") else {
            return Err("is in GitHub's default form; the repository's customized subject is repo:<owner>/<repo>:<context>:ref:<ref>".into());
        };
        exact_ref(r)?;
        if context_ref != r {
            return Err(format!(
                "names two different refs ({context_ref:?} and {r:?}); a job's context ref and ref are the same"
            ));
        }
        return Ok(Subject::Pinned);
    }
    if wild(rest) || rest.contains("${") {
        return Err(format!(
            "has a context that cannot be checked ({rest:?}); it must be environment:<name>, ref:<ref> or pull_request"
        ));
    }
    Err(format!(
        "has no ref (:ref:<ref>) after its context {rest:?}"
    ))
}

// ---------------------------------------------------------------- roles

fn role_violation(role: &Role, message: String) -> Violation {
    Violation {
        file: role.resource.file.clone(),
        address: format!("{}.{}", role.resource.rtype, role.resource.name),
        message,
    }
}

/// Whether a pull request (or anyone) can assume the role, and how to say
/// so: a subject of pull_request, or one that is not pinned (a wildcard, an
/// unreadable subject, none at all).
fn reachable_from_pull_requests(trusts: &[&Statement]) -> Option<&'static str> {
    let mut unpinned = false;
    for s in trusts {
        let subs: Vec<_> = s.conditions_on(GITHUB_SUB).collect();
        unpinned |= subs.is_empty();
        for c in subs {
            unpinned |= c.values.is_empty();
            for v in &c.values {
                if v.contains("pull_request") {
                    return Some("pull requests can assume it");
                }
                unpinned |= v.contains('*') || v.contains('?') || subject(v).is_err();
            }
        }
    }
    unpinned.then_some("its sub is not pinned, so pull requests can assume it too")
}

fn check_role(role: &Role) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Err(why) = &role.trust {
        // A GitHub trust the checks cannot read is itself a problem.
        let raw = role
            .resource
            .body
            .attributes()
            .find(|a| a.key.as_str() == "assume_role_policy")
            .map(|a| a.expr.to_string())
            .unwrap_or_default();
        if raw.contains("AssumeRoleWithWebIdentity") || raw.contains("token.actions") {
            out.push(role_violation(
                role,
                format!("{why}; a GitHub OIDC trust must be one, so these checks can read it"),
            ));
        }
        return out;
    }
    let trusts = role.web_identity_trusts();
    if trusts.is_empty() {
        return out;
    }
    let from_prs = reachable_from_pull_requests(&trusts);
    let terraform_role = TERRAFORM_ROLES.contains(&role.name.as_str());

    for policy in &role.policies {
        match policy {
            Attached::Managed { via, name } => {
                if let Some(who) = from_prs {
                    out.push(role_violation(
                        role,
                        format!(
                            "{who}, yet {via} attaches the AWS managed policy {name}; such a role may hold only policies written here, which these checks read"
                        ),
                    ));
                } else if !terraform_role {
                    out.push(role_violation(
                        role,
                        format!(
                            "GitHub can assume it and {via} attaches the AWS managed policy {name}; spell the actions out in a policy document (only {} may use managed policies)",
                            TERRAFORM_ROLES.join(" and ")
                        ),
                    ));
                }
            }
            Attached::Unknown { via, what } => out.push(role_violation(
                role,
                format!(
                    "GitHub can assume it and {via} attaches {what}, which these checks cannot read"
                ),
            )),
            Attached::Doc { via, doc } => {
                for s in doc.statements.iter().filter(|s| s.allow) {
                    out.extend(check_statement(role, via, doc, s, from_prs));
                }
            }
        }
    }
    out
}

fn check_statement(
    role: &Role,
    via: &str,
    doc: &PolicyDoc,
    s: &Statement,
    from_prs: Option<&str>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let at = format!("{} ({via})", doc.address());
    let label = &s.label;
    if s.not_actions || s.not_resources {
        out.push(role_violation(
            role,
            format!(
                "GitHub can assume it and {at} {label} uses not_actions/not_resources, which grant more than these checks can bound"
            ),
        ));
        return out;
    }

    // No wildcard action on every resource.
    if s.resources.iter().any(|r| r == "*") {
        for a in s
            .actions
            .iter()
            .filter(|a| a.contains('*') || a.contains('?'))
        {
            out.push(role_violation(
                role,
                format!("GitHub can assume it and {at} {label} grants the wildcard action {a:?} on every resource (\"*\")"),
            ));
        }
    }

    // Tags only under limits: which keys, and on which instances.
    for action in ["ec2:CreateTags", "ec2:DeleteTags"] {
        if s.grants(action) {
            let has = |test: &str, var: &str, ok: &dyn Fn(&[String]) -> bool| {
                s.conditions
                    .iter()
                    .any(|c| c.test == test && c.variable == var && ok(&c.values))
            };
            let keys_limited = has("ForAllValues:StringEquals", "aws:TagKeys", &|v| {
                !v.is_empty() && v.iter().all(|k| !k.contains('*') && !k.contains('?'))
            }) && has("Null", "aws:TagKeys", &|v| v == ["false"]);
            let scoped = ["aws:ResourceTag/Project", "aws:ResourceTag/Environment"]
                .iter()
                .all(|var| has("StringEquals", var, &|v| !v.is_empty()));
            if !keys_limited || !scoped {
                out.push(role_violation(
                    role,
                    format!(
                        "GitHub can assume it and {at} {label} grants {action} without limits: it needs ForAllValues:StringEquals on aws:TagKeys, Null aws:TagKeys = \"false\", and StringEquals on aws:ResourceTag/Project and aws:ResourceTag/Environment"
                    ),
                ));
            }
        }
    }

    if let Some(who) = from_prs {
        let state_bucket = |r: &str| {
            let lower = r.to_lowercase();
            r == "*"
                || lower.contains("state")
                || r.split_once(":s3:::")
                    .is_some_and(|(_, b)| b.starts_with('*') || b.starts_with('?'))
        };
        let any_key = |r: &str| {
            r == "*"
                || r.to_lowercase().contains("state")
                || (r.contains(":kms:") && r.contains('*'))
        };
        for action in ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"] {
            if s.grants(action)
                && let Some(r) = s.resources.iter().find(|r| state_bucket(r))
            {
                out.push(role_violation(
                    role,
                    format!(
                        "{who}, yet {at} {label} grants {action} on {r:?}, which covers the Terraform state bucket"
                    ),
                ));
            }
        }
        if s.grants("kms:Decrypt")
            && let Some(r) = s.resources.iter().find(|r| any_key(r))
        {
            out.push(role_violation(
                role,
                format!(
                    "{who}, yet {at} {label} grants kms:Decrypt on {r:?}, which covers the Terraform state key"
                ),
            ));
        }
        if s.grants("secretsmanager:GetSecretValue") {
            out.push(role_violation(
                role,
                format!("{who}, yet {at} {label} grants secretsmanager:GetSecretValue"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_of_the_customized_template() {
        let r = "repo:${var.github_repository}";
        assert_eq!(
            subject(&format!("{r}:environment:prod:ref:refs/heads/main")),
            Ok(Subject::Pinned)
        );
        assert_eq!(
            subject(&format!(
                "{r}:environment:${{var.github_environment}}:ref:refs/heads/main"
            )),
            Ok(Subject::Pinned)
        );
        assert_eq!(
            subject(&format!("{r}:ref:refs/heads/main:ref:refs/heads/main")),
            Ok(Subject::Pinned)
        );
        assert_eq!(
            subject(&format!("{r}:pull_request:ref:refs/pull/*/merge")),
            Ok(Subject::PullRequest)
        );
        for bad in [
            format!("{r}:environment:prod"),
            format!("{r}:ref:refs/heads/main"),
            format!("{r}:environment:prod:ref:refs/heads/*"),
            format!("{r}:environment:*:ref:refs/heads/main"),
            format!("{r}:*"),
            format!("{r}:pull_request"),
            format!("{r}:ref:refs/heads/a:ref:refs/heads/b"),
            "repo:*:environment:prod:ref:refs/heads/main".to_owned(),
            "${var.sub}".to_owned(),
        ] {
            assert!(subject(&bad).is_err(), "{bad} accepted");
        }
    }
}

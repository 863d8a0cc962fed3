//! Offline checks of the Packer templates under amis/ that the installed
//! Packer cannot do: Debian's Packer 1.6.6 predates `required_plugins` and
//! the amazon plugin's IMDSv2 arguments, so `packer validate` on the real
//! templates is out of reach. These rules read the templates with hcl-rs:
//! every variable and local used is declared, every uploaded file or script
//! exists beside the template, the images require IMDSv2, are encrypted and
//! carry the tags Terraform selects them by (Project, Tier, GitRevision).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use hcl::{Body, Expression};

use crate::eval::{attr, blocks, body_references, interpolations};
use crate::rules::Violation;
use crate::tree::LoadError;

/// One template directory (amis/web, amis/bastion): its `*.pkr.hcl` files.
struct Template {
    /// Relative to the checked root, e.g. `web`.
    dir: PathBuf,
    files: Vec<(PathBuf, Body)>,
}

/// Checks every template directory directly under `root`.
pub fn check_dir(root: &Path) -> Result<(usize, Vec<Violation>), LoadError> {
    let templates = load(root)?;
    let mut out = Vec::new();
    for t in &templates {
        out.extend(check_template(root, t));
    }
    out.sort();
    Ok((templates.len(), out))
}

fn load(root: &Path) -> Result<Vec<Template>, LoadError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .map_err(io(root))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(root))?
        .into_iter()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let mut templates = Vec::new();
    for dir in dirs {
        let mut names: Vec<PathBuf> = fs::read_dir(&dir)
            .map_err(io(&dir))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(io(&dir))?
            .into_iter()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".pkr.hcl"))
            .collect();
        if names.is_empty() {
            continue;
        }
        names.sort();
        let rel_dir = dir.strip_prefix(root).unwrap_or(&dir).to_path_buf();
        let mut files = Vec::new();
        for path in names {
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            let rel = rel_dir.join(path.file_name().unwrap_or_default());
            let body = hcl::parse(&text).map_err(|e| LoadError::Parse {
                path: rel.clone(),
                message: e.to_string(),
            })?;
            files.push((rel, body));
        }
        templates.push(Template {
            dir: rel_dir,
            files,
        });
    }
    if templates.is_empty() {
        return Err(LoadError::NoTemplates {
            path: root.to_path_buf(),
        });
    }
    Ok(templates)
}

fn check_template(root: &Path, t: &Template) -> Vec<Violation> {
    let mut out = Vec::new();
    let tier = t.dir.to_string_lossy().into_owned();
    let dir_violation = |address: &str, message: String| Violation {
        file: t.dir.clone(),
        address: address.to_owned(),
        message,
    };

    let mut variables = BTreeSet::new();
    let mut locals = BTreeSet::new();
    let mut plugins = false;
    let mut sources = 0;
    for (_, body) in &t.files {
        for block in body.blocks() {
            match block.identifier.as_str() {
                "variable" => {
                    if let Some(name) = block.labels.first() {
                        variables.insert(label(name));
                    }
                }
                "locals" => locals.extend(block.body.attributes().map(|a| a.key.to_string())),
                "packer" => {
                    plugins |= blocks(&block.body, "required_plugins").iter().any(|p| {
                        attr(p, "amazon")
                            .map(|a| a.to_string().contains("github.com/hashicorp/amazon"))
                            .unwrap_or(false)
                    });
                }
                _ => {}
            }
        }
    }
    if !plugins {
        out.push(dir_violation(
            "packer",
            "no packer { required_plugins { amazon = { source = \"github.com/hashicorp/amazon\" } } }: current Packer would not know where the builder comes from".into(),
        ));
    }
    if !variables.contains("git_revision") {
        out.push(dir_violation(
            "variable.git_revision",
            "is not declared: images must be tagged with the git revision they are built from"
                .into(),
        ));
    }

    for (file, body) in &t.files {
        let violation = |address: String, message: String| Violation {
            file: file.clone(),
            address,
            message,
        };
        let mut used = Vec::new();
        body_references(body, "var", &mut used);
        for name in used.into_iter().collect::<BTreeSet<_>>() {
            if !variables.contains(&name) {
                out.push(violation(
                    format!("var.{name}"),
                    "is used but not declared".into(),
                ));
            }
        }
        let mut used = Vec::new();
        body_references(body, "local", &mut used);
        for name in used.into_iter().collect::<BTreeSet<_>>() {
            if !locals.contains(&name) {
                out.push(violation(
                    format!("local.{name}"),
                    "is used but not declared".into(),
                ));
            }
        }

        for block in body.blocks() {
            match (block.identifier.as_str(), block.labels.as_slice()) {
                ("source", [kind, name]) => {
                    sources += 1;
                    let address = format!("source.{}.{}", label(kind), label(name));
                    for message in check_source(&block.body, &tier) {
                        out.push(violation(address.clone(), message));
                    }
                }
                ("build", _) => {
                    for (address, message) in check_build_paths(root, &t.dir, &block.body) {
                        out.push(violation(address, message));
                    }
                }
                _ => {}
            }
        }
    }
    if sources == 0 {
        out.push(dir_violation(
            "source",
            "the template defines no source".into(),
        ));
    }
    out
}

fn label(l: &hcl::BlockLabel) -> String {
    match l {
        hcl::BlockLabel::Identifier(i) => i.to_string(),
        hcl::BlockLabel::String(s) => s.clone(),
    }
}

fn literal(expr: Option<&Expression>) -> Option<String> {
    match expr? {
        Expression::String(s) => Some(s.clone()),
        Expression::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn check_source(body: &Body, tier: &str) -> Vec<String> {
    let mut out = Vec::new();
    if literal(attr(body, "imds_support")).as_deref() != Some("v2.0") {
        out.push(
            "imds_support must be \"v2.0\" so instances launched from the image refuse IMDSv1"
                .into(),
        );
    }
    let tokens = blocks(body, "metadata_options")
        .first()
        .and_then(|m| literal(attr(m, "http_tokens")));
    if tokens.as_deref() != Some("required") {
        out.push("metadata_options.http_tokens must be \"required\" (the build instance allows IMDSv1 otherwise)".into());
    }
    if literal(attr(body, "encrypt_boot")).as_deref() != Some("true") {
        out.push("encrypt_boot must be true".into());
    }
    for tags_attr in ["tags", "snapshot_tags"] {
        let Some(Expression::Object(tags)) = attr(body, tags_attr) else {
            out.push(format!(
                "{tags_attr} must be an object literal with Project, Tier and GitRevision"
            ));
            continue;
        };
        let get = |key: &str| {
            tags.iter()
                .find(|(k, _)| crate::eval::object_key(k) == key)
                .map(|(_, v)| v.to_string())
        };
        if get("Project").as_deref() != Some("\"notejam\"") {
            out.push(format!("{tags_attr}.Project must be \"notejam\""));
        }
        if get("Tier") != Some(format!("{tier:?}")) {
            out.push(format!(
                "{tags_attr}.Tier must be {tier:?}, the tier Terraform looks the image up by"
            ));
        }
        if get("GitRevision").as_deref() != Some("var.git_revision") {
            out.push(format!("{tags_attr}.GitRevision must be var.git_revision"));
        }
    }
    out
}

/// Files the build uploads or runs, written `${path.root}/...`, must exist.
fn check_build_paths(root: &Path, dir: &Path, build: &Body) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for provisioner in build
        .blocks()
        .filter(|b| b.identifier.as_str() == "provisioner")
    {
        let kind = provisioner.labels.first().map(label).unwrap_or_default();
        let address = format!("build.provisioner.{kind}");
        let mut paths = Vec::new();
        if let Some(e) = attr(&provisioner.body, "source") {
            paths.push(e.clone());
        }
        if let Some(Expression::Array(items)) = attr(&provisioner.body, "scripts") {
            paths.extend(items.iter().cloned());
        }
        if let Some(e) = attr(&provisioner.body, "script") {
            paths.push(e.clone());
        }
        for expr in paths {
            let Some(rel) = path_root_relative(&expr) else {
                continue;
            };
            let full = root.join(dir).join(&rel);
            if !full.exists() {
                out.push((
                    address.clone(),
                    format!("{} does not exist", dir.join(&rel).display()),
                ));
            } else if kind == "shell" && !is_executable(&full) {
                out.push((
                    address.clone(),
                    format!("{} is not executable", dir.join(&rel).display()),
                ));
            }
        }
    }
    out
}

/// `"${path.root}/../common/x.sh"` -> `../common/x.sh`.
fn path_root_relative(expr: &Expression) -> Option<String> {
    let Expression::TemplateExpr(t) = expr else {
        return None;
    };
    let hcl::expr::TemplateExpr::QuotedString(raw) = t.as_ref() else {
        return None;
    };
    let rest = raw.strip_prefix("${path.root}/")?;
    // Only plain paths: nothing else interpolated.
    interpolations(rest).is_empty().then(|| rest.to_owned())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.is_dir() || m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    true
}

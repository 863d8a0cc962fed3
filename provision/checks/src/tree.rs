//! Loading a Terraform tree: every directory holding `.tf` files becomes a
//! [`ModuleDir`] with its resources, variables, locals, module calls and
//! provider blocks, parsed with hcl-rs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use hcl::{Block, BlockLabel, Body, Expression};

/// Directories never holding configuration of ours.
const SKIPPED_DIRS: &[&str] = &[".terraform", "target", "node_modules"];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid HCL: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: no .tf files found under it")]
    Empty { path: PathBuf },
    #[error("{path}: no Packer templates (*.pkr.hcl) found in its subdirectories")]
    NoTemplates { path: PathBuf },
}

/// A `resource "TYPE" "NAME" { ... }` block.
#[derive(Debug, Clone)]
pub struct Resource {
    /// File holding the block, relative to the tree's root.
    pub file: PathBuf,
    pub rtype: String,
    pub name: String,
    pub body: Body,
}

impl Resource {
    pub fn address(&self) -> String {
        format!("{}.{}", self.rtype, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub default: Option<Expression>,
}

/// A `module "NAME" { source = "..." ... }` call with a local source.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub file: PathBuf,
    pub name: String,
    /// The called directory, relative to the tree's root, when `source` is a
    /// local path inside the tree.
    pub target: Option<PathBuf>,
    pub args: BTreeMap<String, Expression>,
}

/// One Terraform module: the `.tf` files of one directory.
#[derive(Debug, Default)]
pub struct ModuleDir {
    /// Relative to the tree's root ("" for the root itself).
    pub dir: PathBuf,
    pub resources: Vec<Resource>,
    /// `data "TYPE" "NAME" { ... }` blocks (their address is `data.TYPE.NAME`).
    pub data_sources: Vec<Resource>,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Expression>,
    pub module_calls: Vec<ModuleCall>,
    /// `provider "aws" { ... }` blocks with the file they are in.
    pub aws_providers: Vec<(PathBuf, Body)>,
    pub has_backend: bool,
    pub files: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Tree {
    pub root: PathBuf,
    pub modules: Vec<ModuleDir>,
}

impl Tree {
    /// Reads every `.tf` file under `root`.
    pub fn load(root: &Path) -> Result<Tree, LoadError> {
        let mut modules = Vec::new();
        load_dir(root, Path::new(""), &mut modules)?;
        if modules.is_empty() {
            return Err(LoadError::Empty {
                path: root.to_path_buf(),
            });
        }
        Ok(Tree {
            root: root.to_path_buf(),
            modules,
        })
    }

    /// Parses in-memory files, keyed by their path relative to the root.
    /// Used by tests to feed the rules small, deliberately broken trees.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Tree, LoadError> {
        let mut by_dir: BTreeMap<PathBuf, ModuleDir> = BTreeMap::new();
        for (path, text) in sources {
            let path = PathBuf::from(path);
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let module = by_dir.entry(dir.clone()).or_insert_with(|| ModuleDir {
                dir,
                ..ModuleDir::default()
            });
            add_file(module, &path, text)?;
        }
        Ok(Tree {
            root: PathBuf::new(),
            modules: by_dir.into_values().collect(),
        })
    }

    pub fn module(&self, dir: &Path) -> Option<&ModuleDir> {
        self.modules.iter().find(|m| m.dir == dir)
    }

    /// Every module call, anywhere in the tree, whose source is `dir`.
    pub fn callers_of<'a>(
        &'a self,
        dir: &'a Path,
    ) -> impl Iterator<Item = (&'a ModuleDir, &'a ModuleCall)> + 'a {
        self.modules.iter().flat_map(move |m| {
            m.module_calls
                .iter()
                .filter(move |c| c.target.as_deref() == Some(dir))
                .map(move |c| (m, c))
        })
    }

    /// Data sources of one type, anywhere in the tree.
    pub fn data_sources<'a>(
        &'a self,
        rtype: &'a str,
    ) -> impl Iterator<Item = (&'a ModuleDir, &'a Resource)> + 'a {
        self.modules.iter().flat_map(move |m| {
            m.data_sources
                .iter()
                .filter(move |d| d.rtype == rtype)
                .map(move |d| (m, d))
        })
    }

    pub fn resources(&self) -> impl Iterator<Item = (&ModuleDir, &Resource)> {
        self.modules
            .iter()
            .flat_map(|m| m.resources.iter().map(move |r| (m, r)))
    }

    pub fn file_count(&self) -> usize {
        self.modules.iter().map(|m| m.files.len()).sum()
    }
}

fn load_dir(root: &Path, rel: &Path, out: &mut Vec<ModuleDir>) -> Result<(), LoadError> {
    // join("") would add a trailing slash to messages about the root.
    let abs = if rel.as_os_str().is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let io = |source| LoadError::Io {
        path: abs.clone(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(&abs)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());

    let mut module = ModuleDir {
        dir: rel.to_path_buf(),
        ..ModuleDir::default()
    };
    let mut subdirs = Vec::new();
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type().map_err(io)?;
        if file_type.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
                subdirs.push(rel.join(name.as_ref()));
            }
        } else if name.ends_with(".tf") {
            let rel_file = rel.join(name.as_ref());
            let path = root.join(&rel_file);
            let text = fs::read_to_string(&path).map_err(|source| LoadError::Io {
                path: path.clone(),
                source,
            })?;
            add_file(&mut module, &rel_file, &text)?;
        }
    }
    if !module.files.is_empty() {
        out.push(module);
    }
    for sub in subdirs {
        load_dir(root, &sub, out)?;
    }
    Ok(())
}

fn add_file(module: &mut ModuleDir, file: &Path, text: &str) -> Result<(), LoadError> {
    let body = hcl::parse(text).map_err(|e| LoadError::Parse {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    module.files.push(file.to_path_buf());
    for block in body.blocks() {
        match (block.identifier.as_str(), labels(block).as_slice()) {
            ("resource", [rtype, name]) => module.resources.push(Resource {
                file: file.to_path_buf(),
                rtype: rtype.clone(),
                name: name.clone(),
                body: block.body.clone(),
            }),
            ("data", [rtype, name]) => module.data_sources.push(Resource {
                file: file.to_path_buf(),
                rtype: rtype.clone(),
                name: name.clone(),
                body: block.body.clone(),
            }),
            ("variable", [name]) => {
                let default = block
                    .body
                    .attributes()
                    .find(|a| a.key.as_str() == "default")
                    .map(|a| a.expr.clone());
                module.variables.insert(name.clone(), Variable { default });
            }
            ("locals", []) => {
                for attr in block.body.attributes() {
                    module
                        .locals
                        .insert(attr.key.to_string(), attr.expr.clone());
                }
            }
            ("module", [name]) => module
                .module_calls
                .push(module_call(module, file, name, block)),
            ("provider", [name]) if name == "aws" => {
                module
                    .aws_providers
                    .push((file.to_path_buf(), block.body.clone()));
            }
            ("terraform", [])
                if block
                    .body
                    .blocks()
                    .any(|b| b.identifier.as_str() == "backend") =>
            {
                module.has_backend = true;
            }
            _ => {}
        }
    }
    Ok(())
}

fn module_call(module: &ModuleDir, file: &Path, name: &str, block: &Block) -> ModuleCall {
    let mut args = BTreeMap::new();
    let mut target = None;
    for attr in block.body.attributes() {
        if attr.key.as_str() == "source" {
            if let Expression::String(source) = &attr.expr
                && (source.starts_with("./") || source.starts_with("../"))
            {
                target = normalize(&module.dir.join(source));
            }
        } else {
            args.insert(attr.key.to_string(), attr.expr.clone());
        }
    }
    ModuleCall {
        file: file.to_path_buf(),
        name: name.to_owned(),
        target,
        args,
    }
}

/// Resolves `.` and `..` without touching the file system; `None` when the
/// path climbs out of the tree.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn labels(block: &Block) -> Vec<String> {
    block
        .labels
        .iter()
        .map(|l| match l {
            BlockLabel::Identifier(i) => i.to_string(),
            BlockLabel::String(s) => s.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_sources_resolve_relative_to_the_caller() {
        assert_eq!(
            normalize(Path::new("envs/prod/../../modules/web")),
            Some(PathBuf::from("modules/web"))
        );
        assert_eq!(normalize(Path::new("../outside")), None);
    }

    #[test]
    fn a_parse_error_names_the_file() {
        let err = Tree::from_sources([("modules/x/main.tf", "resource \"a\" {")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("modules/x/main.tf: not valid HCL"),
            "{text}"
        );
    }
}

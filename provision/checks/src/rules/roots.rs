//! Root modules (those with a backend or an aws provider) set Project and
//! Environment through default_tags; environment roots under envs/<name>/
//! tag and name everything for <name>.

use std::path::{Component, Path};

use crate::eval::{Ctx, attr, blocks};
use crate::rules::Violation;
use crate::tree::Tree;

pub fn check(tree: &Tree) -> Vec<Violation> {
    let mut out = Vec::new();
    for module in &tree.modules {
        let is_root = module.has_backend || !module.aws_providers.is_empty();
        if !is_root {
            continue;
        }
        let ctx = Ctx::new(tree, module);
        let env_name = env_dir_name(&module.dir);
        let file = module
            .aws_providers
            .first()
            .map(|(f, _)| f.clone())
            .or_else(|| module.files.first().cloned())
            .unwrap_or_default();
        let violation = |message: String| Violation {
            file: file.clone(),
            address: "provider.aws".to_owned(),
            message,
        };

        let Some((_, provider)) = module.aws_providers.first() else {
            out.push(violation(
                "root module has no provider \"aws\" block with default_tags".into(),
            ));
            continue;
        };
        let tags = blocks(provider, "default_tags")
            .first()
            .and_then(|d| attr(d, "tags"))
            .map(|t| ctx.object_entries(t))
            .unwrap_or_default();
        let value_of = |key: &str| tags.get(key).map(|e| ctx.resolve(e));

        match value_of("Project") {
            Some(v) if v.iter().all(|x| x.as_str() == Some("notejam")) => {}
            _ => out.push(violation(
                "default_tags must set Project = \"notejam\"".into(),
            )),
        }
        match (value_of("Environment"), &env_name) {
            (None, _) => out.push(violation("default_tags must set Environment".into())),
            (Some(v), Some(name)) if !v.iter().all(|x| x.as_str() == Some(name.as_str())) => {
                let seen: Vec<String> = v.iter().map(|x| x.describe()).collect();
                out.push(violation(format!(
                    "default_tags set Environment = {} in envs/{name}; it must be {name:?}",
                    seen.join(" | ")
                )));
            }
            _ => {}
        }

        // Every module the environment root calls is told the same name.
        if let Some(name) = &env_name {
            for call in &module.module_calls {
                let Some(arg) = call.args.get("environment") else {
                    continue;
                };
                let values = ctx.resolve(arg);
                if !values.iter().all(|v| v.as_str() == Some(name.as_str())) {
                    let seen: Vec<String> = values.iter().map(|v| v.describe()).collect();
                    out.push(Violation {
                        file: call.file.clone(),
                        address: format!("module.{}", call.name),
                        message: format!(
                            "environment = {} in envs/{name}; it must be {name:?}",
                            seen.join(" | ")
                        ),
                    });
                }
            }
        }
    }
    out
}

/// `envs/prod` -> `prod`.
fn env_dir_name(dir: &Path) -> Option<String> {
    let parts: Vec<_> = dir.components().collect();
    match parts.as_slice() {
        [Component::Normal(envs), Component::Normal(name)] if *envs == "envs" => {
            Some(name.to_string_lossy().into_owned())
        }
        _ => None,
    }
}

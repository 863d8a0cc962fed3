//! The Packer template rules, on the real amis/ and on copies of it with one
//! thing broken.

use std::fs;
use std::path::{Path, PathBuf};

use provision_checks::packer::check_dir;

/// The package's directory as `cargo test` gives it at run time: the build cache is
/// shared between checkouts, so the path compiled in may be another clone's.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn amis_dir() -> PathBuf {
    manifest_dir().join("../../amis")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // fs::copy keeps the permission bits, executability included.
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn broken(edit: impl FnOnce(&Path)) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&amis_dir(), dir.path());
    edit(dir.path());
    let (_, violations) = check_dir(dir.path()).unwrap();
    violations.iter().map(ToString::to_string).collect()
}

fn replace(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_real_templates_pass() {
    let (templates, violations) = check_dir(&amis_dir()).unwrap();
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
    assert_eq!(templates, 2);
}

#[test]
fn imdsv1_on_the_image() {
    let got = broken(|d| replace(&d.join("web/web.pkr.hcl"), "imds_support  = \"v2.0\"\n", ""));
    assert_eq!(
        got,
        [
            "web/web.pkr.hcl: source.amazon-ebs.web: imds_support must be \"v2.0\" so instances launched from the image refuse IMDSv1"
        ]
    );
}

#[test]
fn image_tagged_with_the_wrong_tier_and_no_revision() {
    let got = broken(|d| {
        let f = d.join("bastion/bastion.pkr.hcl");
        replace(
            &f,
            "    Tier        = \"bastion\"\n    GitRevision = var.git_revision\n    BaseAMI",
            "    Tier        = \"web\"\n    BaseAMI",
        );
    });
    assert_eq!(
        got,
        [
            "bastion/bastion.pkr.hcl: source.amazon-ebs.bastion: tags.GitRevision must be var.git_revision",
            "bastion/bastion.pkr.hcl: source.amazon-ebs.bastion: tags.Tier must be \"bastion\", the tier Terraform looks the image up by",
        ]
    );
}

#[test]
fn undeclared_variable() {
    let got = broken(|d| {
        replace(
            &d.join("web/web.pkr.hcl"),
            "region        = var.region",
            "region        = var.aws_region",
        )
    });
    assert_eq!(
        got,
        ["web/web.pkr.hcl: var.aws_region: is used but not declared"]
    );
}

#[test]
fn missing_and_non_executable_scripts() {
    let got = broken(|d| {
        fs::remove_file(d.join("web/scripts/50-codedeploy-agent.sh")).unwrap();
        let script = d.join("common/scripts/30-ssh-hardening.sh");
        let mut perms = fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
        fs::set_permissions(&script, perms).unwrap();
    });
    assert_eq!(
        got,
        [
            "bastion/bastion.pkr.hcl: build.provisioner.shell: bastion/../common/scripts/30-ssh-hardening.sh is not executable",
            "web/web.pkr.hcl: build.provisioner.shell: web/../common/scripts/30-ssh-hardening.sh is not executable",
            "web/web.pkr.hcl: build.provisioner.shell: web/scripts/50-codedeploy-agent.sh does not exist",
        ]
    );
}

#[test]
fn missing_plugin_requirement() {
    let got = broken(|d| fs::remove_file(d.join("web/plugins.pkr.hcl")).unwrap());
    assert_eq!(
        got,
        [
            "web: packer: no packer { required_plugins { amazon = { source = \"github.com/hashicorp/amazon\" } } }: current Packer would not know where the builder comes from"
        ]
    );
}

#[test]
fn unreadable_and_empty_inputs_are_errors() {
    let err = check_dir(Path::new("/nonexistent/amis"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/amis: cannot read"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = check_dir(empty.path()).unwrap_err().to_string();
    assert!(
        err.contains("no Packer templates (*.pkr.hcl) found"),
        "{err}"
    );
}

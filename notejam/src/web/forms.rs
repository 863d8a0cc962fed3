//! The forms' fields and their validation rules, with the messages users read.

use serde::Deserialize;

pub const REQUIRED: &str = "This field is required.";
pub const INVALID_EMAIL: &str = "Enter a valid email address.";
pub const EMAIL_TAKEN: &str = "A user with this email already exists.";
pub const PASSWORDS_DIFFER: &str = "The passwords do not match.";
pub const WRONG_CREDENTIALS: &str = "Wrong email or password";
pub const UNKNOWN_EMAIL: &str = "No user with given email found";
pub const WRONG_CURRENT_PASSWORD: &str = "The current password is incorrect.";
pub const INVALID_PAD: &str =
    "Select a valid choice. That choice is not one of the available choices.";
pub const NULL_CHARACTER: &str = "Null characters are not allowed.";
pub const NAME_MAX_CHARS: usize = 100;

/// Field errors, in the order found, keyed by field name (`__all__` for the form).
#[derive(Debug, Default)]
pub struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Emails are compared and stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A pragmatic address check (RFC 5321 lengths, dot-atom local part, a dotted host name):
/// what a sign-up form should refuse, not a full RFC 5322 parser.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = email.len() <= 254
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

fn check_name(errors: &mut Errors, name: &str) {
    let length = name.chars().count();
    if name.contains('\0') {
        // PostgreSQL text cannot hold NUL; refuse it on every backend alike.
        errors.add("name", NULL_CHARACTER);
    } else if name.trim().is_empty() {
        errors.add("name", REQUIRED);
    } else if length > NAME_MAX_CHARS {
        errors.add(
            "name",
            format!("Ensure this value has at most {NAME_MAX_CHARS} characters (it has {length})."),
        );
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub password: String,
    pub repeat_password: String,
}

impl SignupForm {
    /// Everything but uniqueness, which the database decides.
    pub fn validate(&self) -> Errors {
        let mut errors = Errors::default();
        let email = normalize_email(&self.email);
        if email.is_empty() {
            errors.add("email", REQUIRED);
        } else if !is_valid_email(&email) {
            errors.add("email", INVALID_EMAIL);
        }
        if self.password.is_empty() {
            errors.add("password", REQUIRED);
        }
        if self.repeat_password.is_empty() {
            errors.add("repeat_password", REQUIRED);
        } else if !self.password.is_empty() && self.password != self.repeat_password {
            errors.add("repeat_password", PASSWORDS_DIFFER);
        }
        errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SigninForm {
    pub email: String,
    pub password: String,
}

impl SigninForm {
    pub fn validate(&self) -> Errors {
        let mut errors = Errors::default();
        if self.email.trim().is_empty() {
            errors.add("email", REQUIRED);
        }
        if self.password.is_empty() {
            errors.add("password", REQUIRED);
        }
        errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotPasswordForm {
    pub email: String,
}

impl ForgotPasswordForm {
    pub fn validate(&self) -> Errors {
        let mut errors = Errors::default();
        let email = normalize_email(&self.email);
        if email.is_empty() {
            errors.add("email", REQUIRED);
        } else if !is_valid_email(&email) {
            errors.add("email", INVALID_EMAIL);
        }
        errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub old_password: String,
    pub new_password: String,
    pub repeat_new_password: String,
}

impl SettingsForm {
    /// Everything but the current password's check, which needs the stored hash.
    pub fn validate(&self) -> Errors {
        let mut errors = Errors::default();
        if self.old_password.is_empty() {
            errors.add("old_password", REQUIRED);
        }
        if self.new_password.is_empty() {
            errors.add("new_password", REQUIRED);
        }
        if self.repeat_new_password.is_empty() {
            errors.add("repeat_new_password", REQUIRED);
        } else if !self.new_password.is_empty() && self.new_password != self.repeat_new_password {
            errors.add("repeat_new_password", PASSWORDS_DIFFER);
        }
        errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PadForm {
    pub name: String,
}

impl PadForm {
    pub fn validate(&self) -> Errors {
        let mut errors = Errors::default();
        check_name(&mut errors, &self.name);
        errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    pub name: String,
    pub text: String,
    /// A pad id, or empty for no pad.
    pub pad: String,
}

impl NoteForm {
    /// Everything but the pad's ownership, which needs the user's pads.
    /// Returns the chosen pad id (`None` for no pad).
    pub fn validate(&self, errors: &mut Errors) -> Option<i64> {
        check_name(errors, &self.name);
        if self.text.contains('\0') {
            errors.add("text", NULL_CHARACTER);
        } else if self.text.trim().is_empty() {
            errors.add("text", REQUIRED);
        }
        let pad = self.pad.trim();
        if pad.is_empty() {
            return None;
        }
        match pad.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("pad", INVALID_PAD);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_that_a_user_would_type_are_accepted() {
        for ok in [
            "a@b.co",
            "first.last+tag@mail.example.org",
            "x_y-z@sub-domain.io",
        ] {
            assert!(is_valid_email(ok), "{ok}");
        }
    }

    #[test]
    fn malformed_emails_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            "a@@b.co",
            "a b@c.co",
            ".a@b.co",
            "a.@b.co",
            "a..b@c.co",
            "a@-b.co",
            "a@b-.co",
            "a@b..co",
            "a@b.c0",
            "<script>@x.co",
            "é@b.co",
            &long_local,
            &long_total,
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_counted_in_characters_not_bytes() {
        let mut errors = Errors::default();
        check_name(&mut errors, &"ж".repeat(100));
        assert!(errors.is_empty());
        check_name(&mut errors, &"ж".repeat(101));
        assert_eq!(
            errors.get("name"),
            Some("Ensure this value has at most 100 characters (it has 101).")
        );
    }

    #[test]
    fn the_first_error_of_a_field_is_kept() {
        let form = SignupForm {
            email: "nope".into(),
            password: "a".into(),
            repeat_password: "b".into(),
        };
        let errors = form.validate();
        assert_eq!(errors.get("email"), Some(INVALID_EMAIL));
        assert_eq!(errors.get("repeat_password"), Some(PASSWORDS_DIFFER));
        assert_eq!(errors.get("password"), None);
    }
}

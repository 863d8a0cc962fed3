//! The forgot-password mail: over SMTP when configured, else written to the log
//! (the zero-setup local default).

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

#[derive(Clone)]
pub enum Mailer {
    Log,
    Smtp(Box<SmtpMailer>),
}

#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("NOTEJAM_SMTP_URL: {0}")]
    Url(String),
    #[error("NOTEJAM_MAIL_FROM: {0}")]
    From(String),
    #[error("cannot build the mail: {0}")]
    Build(String),
    #[error("the SMTP server refused the mail: {0}")]
    Send(String),
}

impl Mailer {
    pub fn from_config(config: &MailConfig) -> Result<Mailer, MailError> {
        match config {
            MailConfig::Log => Ok(Mailer::Log),
            MailConfig::Smtp { url, from } => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .build();
                let from = from
                    .parse()
                    .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
                Ok(Mailer::Smtp(Box::new(SmtpMailer { transport, from })))
            }
        }
    }

    pub async fn send_new_password(&self, to: &str, password: &str) -> Result<(), MailError> {
        let subject = "Notejam: your new password";
        let body = format!(
            "Hello,\n\nyour new Notejam password is: {password}\n\n\
             Sign in with it and change it in your account settings.\n"
        );
        match self {
            Mailer::Log => {
                tracing::warn!(
                    to,
                    subject,
                    body,
                    "no SMTP server configured (NOTEJAM_SMTP_URL): mail logged instead of sent"
                );
                Ok(())
            }
            Mailer::Smtp(smtp) => {
                let SmtpMailer { transport, from } = smtp.as_ref();
                let to: Mailbox = to
                    .parse()
                    .map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body)
                    .map_err(|e| MailError::Build(e.to_string()))?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }
}

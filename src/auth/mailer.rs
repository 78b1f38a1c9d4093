//! Sign-in mail: over SMTP when `TALLY_SMTP_URL` is set, to the log otherwise.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Settings, SmtpTls};

pub const SUBJECT: &str = "Your Tally sign-in code";

pub enum Mailer {
    /// Development only: the settings refuse it in the release profile.
    Log,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("bad recipient address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Self, MailError> {
        let Some(smtp) = &settings.smtp else {
            return Ok(Mailer::Log);
        };
        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some((user, pass)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from: settings.mail_from.clone(),
        })
    }

    pub async fn send_code(&self, to: &str, code: &str) -> Result<(), MailError> {
        match self {
            Mailer::Log => {
                tracing::warn!(
                    to,
                    code,
                    "development mailer: sign-in code (set TALLY_SMTP_URL to send e-mail)"
                );
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(Mailbox::new(None, to.parse()?))
                    .subject(SUBJECT)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body(code))?;
                transport.send(message).await?;
                Ok(())
            }
        }
    }
}

fn body(code: &str) -> String {
    format!(
        "Your Tally sign-in code is:\r\n\r\n{code}\r\n\r\n\
         It expires in 10 minutes and works once. If you did not ask for it, ignore this e-mail.\r\n"
    )
}

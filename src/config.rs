//! Typed settings, extracted once from Rocket's figment (Rocket.toml profiles,
//! `ROCKET_*`) plus Tally's own variables, which always win.

use std::time::Duration;

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::{Figment, Profile};
use serde::Deserialize;

/// The name under which rocket_db_pools finds our pool's configuration.
pub const DB_NAME: &str = "tally";

// ANCHOR: settings
/// Everything Tally needs to start, checked before anything runs.
#[derive(Clone)]
pub struct Settings {
    /// Rocket's figment, with the database URL merged where rocket_db_pools reads it.
    pub figment: Figment,
    /// `true` in Rocket's `release` profile: development conveniences are refused there.
    pub release: bool,
    pub database_url: String,
    pub smtp: Option<SmtpSettings>,
    pub mail_from: lettre::message::Mailbox,
    pub token_key: TokenKey,
    pub token_ttl: Duration,
    pub auto_migrate: bool,
    /// Lambda mode: a small, lazily connecting pool.
    pub lambda: bool,
    /// Sign-in requests per client address and hour; 0 turns the limit off.
    pub signin_limit_per_ip: u32,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Prefix` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins a browser may call the API from; empty means no CORS headers.
    pub cors_origins: Vec<String>,
    /// Serve `GET /metrics`.
    pub metrics: bool,
}
// ANCHOR_END: settings

/// The default per-address sign-in limit: 60 requests an hour, that is 30
/// sign-ins (each asks for a code and tries it), which a household or an
/// office behind one address does not reach, and a script does at once.
pub const SIGNIN_LIMIT_PER_IP: u32 = 60;

/// The Ed25519 seed that signs access tokens.
#[derive(Clone)]
pub struct TokenKey {
    pub seed: [u8; 32],
    /// `true` when no key was configured and a random one was made for this run.
    pub ephemeral: bool,
}

/// Where and how sign-in mail goes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub credentials: Option<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Implicit,
}

/// A configuration problem, named by the variable that causes it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

#[derive(Deserialize)]
struct Raw {
    database_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    token_key: Option<String>,
    token_ttl: Option<u64>,
    auto_migrate: Option<bool>,
    signin_limit_per_ip: Option<u32>,
    trusted_proxies: Option<String>,
    cors_origins: Option<String>,
    metrics: Option<bool>,
}

impl Settings {
    // ANCHOR: from_env
    /// Reads Rocket's usual sources, then `DATABASE_URL` and `TALLY_*`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_figment(figment_from_env())
    }
    // ANCHOR_END: from_env

    /// Checks a figment (the tests build theirs by hand) into settings.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let release = figment.profile() == Profile::const_new("release");
        let raw: Raw = figment
            .extract()
            .map_err(|e| bad(variable_of(&e), e.to_string()))?;
        let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();

        let (figment, database_url) = with_database(figment, raw.database_url, lambda)?;

        let smtp = raw.smtp_url.as_deref().map(parse_smtp_url).transpose()?;
        if smtp.is_none() && release {
            return Err(bad(
                "TALLY_SMTP_URL",
                "required in the release profile (the log mailer is for development only)",
            ));
        }
        let mail_from = raw
            .mail_from
            .as_deref()
            .unwrap_or("Tally <no-reply@localhost>")
            .parse()
            .map_err(|e| bad("TALLY_MAIL_FROM", format!("not a mailbox: {e}")))?;

        let token_key = match raw.token_key.as_deref() {
            Some(hex_key) => TokenKey {
                seed: parse_seed(hex_key)?,
                ephemeral: false,
            },
            None if release => {
                return Err(bad(
                    "TALLY_TOKEN_KEY",
                    "required in the release profile (64 hex characters)",
                ))
            }
            None => {
                let mut seed = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
                TokenKey {
                    seed,
                    ephemeral: true,
                }
            }
        };

        let token_ttl = match raw.token_ttl {
            Some(0) => return Err(bad("TALLY_TOKEN_TTL", "must be at least 1 second")),
            Some(s) => Duration::from_secs(s),
            None => Duration::from_secs(3600),
        };

        let trusted_proxies = raw
            .trusted_proxies
            .as_deref()
            .map(parse_proxies)
            .transpose()?
            .unwrap_or_default();
        let cors_origins = raw
            .cors_origins
            .as_deref()
            .map(parse_origins)
            .transpose()?
            .unwrap_or_default();

        Ok(Settings {
            figment,
            release,
            database_url,
            smtp,
            mail_from,
            token_key,
            token_ttl,
            // On Lambda, migrating is a deliberate step (`tally migrate`), not every cold start's.
            auto_migrate: raw.auto_migrate.unwrap_or(!lambda),
            lambda,
            signin_limit_per_ip: raw.signin_limit_per_ip.unwrap_or(SIGNIN_LIMIT_PER_IP),
            trusted_proxies,
            cors_origins,
            // On Lambda there is no process to scrape: CloudWatch reads the logs.
            metrics: raw.metrics.unwrap_or(!lambda),
        })
    }
}

fn figment_from_env() -> Figment {
    rocket::Config::figment()
        .merge(Env::raw().only(&["DATABASE_URL"]))
        .merge(Env::prefixed("TALLY_"))
}

/// The database settings alone, for `tally migrate`: a one-off job that needs
/// no mail server and no token key.
pub fn database_from_env() -> Result<Figment, ConfigError> {
    #[derive(Deserialize)]
    struct RawDatabase {
        database_url: Option<String>,
    }
    let figment = figment_from_env();
    let raw: RawDatabase = figment
        .extract()
        .map_err(|e| bad(variable_of(&e), e.to_string()))?;
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    Ok(with_database(figment, raw.database_url, lambda)?.0)
}

/// Checks `DATABASE_URL` and puts it, with the pool's Lambda defaults, where
/// rocket_db_pools reads them.
fn with_database(
    figment: Figment,
    url: Option<String>,
    lambda: bool,
) -> Result<(Figment, String), ConfigError> {
    let database_url = url.unwrap_or_else(|| "sqlite://tally.db".to_owned());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(bad(
            "DATABASE_URL",
            "expected sqlite://path.db, sqlite::memory: or postgres://…",
        ));
    }
    let mut figment = figment.merge(Serialized::default(
        &format!("databases.{DB_NAME}.url"),
        &database_url,
    ));
    // ANCHOR: lambda_defaults
    if lambda {
        // One event at a time per instance: two connections, opened on
        // first use so a cold start does not wait for the database.
        figment = figment
            .join(Serialized::default(
                &format!("databases.{DB_NAME}.max_connections"),
                2,
            ))
            .merge(Serialized::default(
                &format!("databases.{DB_NAME}.lazy"),
                true,
            ));
    }
    // ANCHOR_END: lambda_defaults
    Ok((figment, database_url))
}

fn variable_of(e: &rocket::figment::Error) -> &'static str {
    match e.path.last().map(String::as_str) {
        Some("database_url") => "DATABASE_URL",
        Some("smtp_url") => "TALLY_SMTP_URL",
        Some("mail_from") => "TALLY_MAIL_FROM",
        Some("token_key") => "TALLY_TOKEN_KEY",
        Some("token_ttl") => "TALLY_TOKEN_TTL",
        Some("auto_migrate") => "TALLY_AUTO_MIGRATE",
        Some("signin_limit_per_ip") => "TALLY_SIGNIN_LIMIT_PER_IP",
        Some("trusted_proxies") => "TALLY_TRUSTED_PROXIES",
        Some("cors_origins") => "TALLY_CORS_ORIGINS",
        Some("metrics") => "TALLY_METRICS",
        _ => "configuration",
    }
}

fn parse_seed(hex_key: &str) -> Result<[u8; 32], ConfigError> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut seed).map_err(|_| {
        bad(
            "TALLY_TOKEN_KEY",
            "expected 64 hex characters (a 32-byte Ed25519 seed)",
        )
    })?;
    Ok(seed)
}

/// `10.0.0.0/8, 192.168.1.1`: networks or single addresses, comma-separated.
pub fn parse_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    bad(
                        "TALLY_TRUSTED_PROXIES",
                        format!("`{s}` is not an IP address or network"),
                    )
                })
        })
        .collect()
}

/// `https://app.example.com, http://localhost:5173`: exact origins, comma-separated.
pub fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let url = url::Url::parse(s)
                .map_err(|_| bad("TALLY_CORS_ORIGINS", format!("`{s}` is not an origin")))?;
            let origin = url.origin().ascii_serialization();
            if origin == "null" || origin != s.trim_end_matches('/') {
                return Err(bad(
                    "TALLY_CORS_ORIGINS",
                    format!("`{s}` is not an origin (scheme://host[:port], no path)"),
                ));
            }
            Ok(origin)
        })
        .collect()
}

/// `smtp://user:pass@host:port` (plain), `?tls=starttls`, or `smtps://` (implicit TLS).
pub fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, ConfigError> {
    let var = "TALLY_SMTP_URL";
    let url = url::Url::parse(raw).map_err(|e| bad(var, format!("not a URL: {e}")))?;
    let mut tls = match url.scheme() {
        "smtp" => SmtpTls::None,
        "smtps" => SmtpTls::Implicit,
        other => {
            return Err(bad(
                var,
                format!("unsupported scheme `{other}` (smtp or smtps)"),
            ))
        }
    };
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref()) {
            ("tls", "starttls") if tls == SmtpTls::None => tls = SmtpTls::StartTls,
            ("tls", "none") if tls == SmtpTls::None => {}
            _ => return Err(bad(var, format!("unsupported parameter `{key}={value}`"))),
        }
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad(var, "missing host"))?
        .to_owned();
    let port = url.port().unwrap_or(match tls {
        SmtpTls::None => 25,
        SmtpTls::StartTls => 587,
        SmtpTls::Implicit => 465,
    });
    let decode = |s: &str| {
        percent_decode(s).ok_or_else(|| bad(var, "credentials are not valid percent-encoded UTF-8"))
    };
    let credentials = if url.username().is_empty() {
        None
    } else {
        Some((
            decode(url.username())?,
            decode(url.password().unwrap_or(""))?,
        ))
    };
    Ok(SmtpSettings {
        host,
        port,
        tls,
        credentials,
    })
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|v| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_forms_map_to_transport_settings() {
        let plain = parse_smtp_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.port, plain.tls, plain.credentials),
            (2525, SmtpTls::None, None)
        );

        let starttls =
            parse_smtp_url("smtp://ana:p%40ss+word@mail.example.com?tls=starttls").unwrap();
        assert_eq!(starttls.tls, SmtpTls::StartTls);
        assert_eq!(starttls.port, 587);
        assert_eq!(
            starttls.credentials,
            Some(("ana".into(), "p@ss+word".into()))
        );

        let implicit = parse_smtp_url("smtps://mail.example.com").unwrap();
        assert_eq!((implicit.port, implicit.tls), (465, SmtpTls::Implicit));
    }

    #[test]
    fn bad_smtp_urls_name_the_variable() {
        for (url, why) in [
            ("http://x", "wrong scheme"),
            ("smtp://", "no host"),
            ("smtp://h?tls=maybe", "unknown tls mode"),
            (
                "smtps://h?tls=starttls",
                "implicit TLS cannot also be STARTTLS",
            ),
        ] {
            let err = parse_smtp_url(url).expect_err(why);
            assert_eq!(err.variable, "TALLY_SMTP_URL", "{why}");
        }
    }

    #[test]
    fn proxies_and_origins_parse_or_name_their_variable() {
        let proxies = parse_proxies("10.0.0.0/8, 192.168.1.1 ,").unwrap();
        assert_eq!(proxies.len(), 2);
        assert!(proxies[1].contains(&"192.168.1.1".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(
            parse_proxies("10.0.0.0/33").unwrap_err().variable,
            "TALLY_TRUSTED_PROXIES"
        );
        assert_eq!(
            parse_origins("https://app.example.com, http://localhost:5173/").unwrap(),
            vec!["https://app.example.com", "http://localhost:5173"]
        );
        for bad in ["app.example.com", "https://x.io/path", "*"] {
            assert_eq!(
                parse_origins(bad).unwrap_err().variable,
                "TALLY_CORS_ORIGINS",
                "{bad}"
            );
        }
    }

    #[test]
    fn token_key_must_be_64_hex_characters() {
        assert!(parse_seed(&"ab".repeat(32)).is_ok());
        for bad_key in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
            assert_eq!(parse_seed(bad_key).unwrap_err().variable, "TALLY_TOKEN_KEY");
        }
    }
}

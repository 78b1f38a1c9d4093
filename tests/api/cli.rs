//! The `tally` binary: its commands and how it refuses a bad configuration.

use std::process::Command;

fn tally() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tally"));
    for var in [
        "DATABASE_URL",
        "TALLY_SMTP_URL",
        "TALLY_TOKEN_KEY",
        "TALLY_TOKEN_TTL",
        "TALLY_MAIL_FROM",
        "TALLY_AUTO_MIGRATE",
        "ROCKET_PROFILE",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `tally migrate` in `profile`, against `url`.
fn migrate(profile: &str, url: &str) -> std::process::Output {
    tally()
        .arg("migrate")
        .env("ROCKET_PROFILE", profile)
        .env("DATABASE_URL", url)
        .output()
        .unwrap()
}

#[test]
fn tally_openapi_prints_the_committed_spec_without_a_database() {
    let out = tally()
        .arg("openapi")
        .env("DATABASE_URL", "postgres://nowhere.invalid/x")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[test]
fn tally_migrate_creates_and_migrates_a_new_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", db.display());
    let out = migrate("debug", &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
    let again = migrate("debug", &url);
    assert!(again.status.success(), "migrating twice is harmless");
}

#[test]
fn tally_migrate_in_the_release_profile_needs_only_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("release.db");
    let out = migrate("release", &format!("sqlite://{}", db.display()));
    assert!(
        out.status.success(),
        "no TALLY_SMTP_URL or TALLY_TOKEN_KEY is needed to migrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
    let bad = migrate("release", "mysql://localhost/x");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("DATABASE_URL"));
}

#[test]
fn a_bad_configuration_stops_at_start_with_one_line_naming_the_variable() {
    let key = "ab".repeat(32);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("TALLY_TOKEN_KEY", "not-hex")], "TALLY_TOKEN_KEY"),
        (&[("DATABASE_URL", "mysql://localhost/x")], "DATABASE_URL"),
        (&[("TALLY_SMTP_URL", "http://mail")], "TALLY_SMTP_URL"),
        (&[("TALLY_TOKEN_TTL", "soon")], "TALLY_TOKEN_TTL"),
        (
            &[
                ("ROCKET_PROFILE", "release"),
                ("TALLY_SMTP_URL", "smtp://127.0.0.1:2525"),
            ],
            "TALLY_TOKEN_KEY",
        ),
        (
            &[("ROCKET_PROFILE", "release"), ("TALLY_TOKEN_KEY", &key)],
            "TALLY_SMTP_URL",
        ),
    ];
    for (env, variable) in cases {
        let out = tally()
            .arg("serve")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{env:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with(&format!("tally: {variable}:")),
            "{env:?}: {stderr}"
        );
    }
}

#[test]
fn an_unreachable_database_stops_the_server_at_start() {
    let out = tally()
        .arg("serve")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("ROCKET_PORT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

/// One raw HTTP/1.1 exchange; returns the status line and headers.
fn raw_exchange(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_method_rocket_does_not_know_is_405_on_a_known_path_and_404_elsewhere() {
    // rocket::local can only send the methods Rocket knows, so this one talks
    // to the real server over a socket.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tally()
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/m.db", dir.path().display()),
        )
        .env("ROCKET_PORT", port.to_string())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let known = up.then(|| {
        raw_exchange(
            port,
            "QUERY /v1/me HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
    });
    let unknown = up.then(|| {
        raw_exchange(
            port,
            "PROPFIND /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
    });
    server.kill().unwrap();
    server.wait().unwrap();
    let (known, unknown) = (known.expect("the server starts"), unknown.unwrap());
    assert!(known.starts_with("HTTP/1.1 405"), "{known}");
    assert!(
        known
            .to_lowercase()
            .contains("\r\nallow: get, head, delete, options\r\n"),
        "{known}"
    );
    assert!(known.contains("application/problem+json"), "{known}");
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
}

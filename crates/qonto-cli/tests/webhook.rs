//! `qonto webhook verify` end to end: the built binary, a secret file, the raw body on stdin.
//!
//! Signatures were computed outside this code base with
//! `printf '%s' '{t}.{body}' | openssl dgst -sha256 -hmac '{secret}'` and pasted as literals.
//! The signature times are fixed, so the tests widen `--tolerance` where they mean to accept.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The secret that must never be printed.
const SECRET: &str = "whsec_SENTINEL_9f2c7d1e4b8a6035c2e1f0d9b8a7c6e5";
const BODY: &[u8] = br#"{"id":"evt_1","type":"v1/transactions"}"#;
/// `1704110400.{BODY}` under [`SECRET`].
const SIG_2024: &str =
    "t=1704110400,v1=8a7483550c3cb58a766ab8c6d852bdcbc3b7d718db3d29d988c1271edf9bd2fa";
/// `4102444800.{BODY}` (the year 2100) under [`SECRET`].
const SIG_2100: &str =
    "t=4102444800,v1=56f213c6559ad7a9140735bf53a1017906ea12b6c3c43be1ae07ba3d2f771d52";
/// `1704110400.{BODY}` under [`OLD_SECRET`].
const SIG_OLD_SECRET: &str =
    "t=1704110400,v1=f821ce10cb4ff9c3a4dbcf141d7d8ebf7ef9e37f5a09b1eaa66beec30cda2885";
const OLD_SECRET: &str = "whsec_old_rotated_secret_0000000000000000";
/// Wide enough to accept both fixed times from any plausible clock.
const WIDE: &str = "4000000000";

struct Run {
    code: i32,
    stdout: String,
    json: serde_json::Value,
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qonto-cli-webhook-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Runs `qonto webhook verify ARGS` with `body` on stdin; the secrets are never printed.
fn verify(args: &[&str], body: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .args(["webhook", "verify"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The command may refuse before reading it all: a broken pipe is fine.
    let _ = stdin.write_all(body);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for secret in ["SENTINEL", OLD_SECRET] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret was printed: {stdout}{stderr}"
        );
    }
    Run {
        code: output.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
        stdout: format!("{stdout}{stderr}"),
    }
}

fn secret_file(dir: &Path) -> String {
    // Written the way `echo "$SECRET" > file` does: with a line break.
    write(dir, "secret", &format!("{SECRET}\n"))
        .display()
        .to_string()
}

#[test]
fn a_good_delivery_prints_valid() {
    let dir = dir("good");
    let secret = secret_file(&dir);
    let run = verify(
        &[
            "--secret-file",
            &secret,
            "--signature",
            SIG_2024,
            "--tolerance",
            WIDE,
        ],
        BODY,
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, "valid\n"));
    // A header line pasted whole, and a Windows line break in the file, are fine too.
    let crlf = write(&dir, "secret-crlf", &format!("{SECRET}\r\n"));
    let pasted = format!("X-Qonto-Signature: {SIG_2024}");
    let run = verify(
        &[
            "--secret-file",
            &crlf.display().to_string(),
            "--signature",
            &pasted,
            "--tolerance",
            WIDE,
            "--output",
            "json",
        ],
        BODY,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json["valid"], true);
    assert_eq!(run.json["signed_at"], 1_704_110_400);
    assert_eq!(run.json["secret_file"], crlf.display().to_string());
}

#[test]
fn rotation_either_secret_file_may_match() {
    let dir = dir("rotation");
    let new = secret_file(&dir);
    let old = write(&dir, "old", OLD_SECRET).display().to_string();
    for signature in [SIG_2024, SIG_OLD_SECRET] {
        let run = verify(
            &[
                "--secret-file",
                &old,
                "--secret-file",
                &new,
                "--signature",
                signature,
                "--tolerance",
                WIDE,
            ],
            BODY,
        );
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, "valid\n"),
            "{signature}"
        );
    }
    let run = verify(
        &[
            "--secret-file",
            &new,
            "--signature",
            SIG_OLD_SECRET,
            "--tolerance",
            WIDE,
        ],
        BODY,
    );
    assert_eq!(run.code, 4, "{}", run.stdout);
}

#[test]
fn each_refusal_exits_4_with_its_code() {
    let dir = dir("refused");
    let secret = secret_file(&dir);
    let mut tampered = BODY.to_vec();
    tampered.push(b'\n');
    let cases: [(&[&str], &[u8], &str); 5] = [
        (
            &["--signature", SIG_2024, "--tolerance", WIDE],
            &tampered,
            "webhook_signature_mismatch",
        ),
        (
            &["--signature", SIG_2024],
            BODY,
            "webhook_signature_too_old",
        ),
        (
            &["--signature", SIG_2100],
            BODY,
            "webhook_signature_from_future",
        ),
        (
            &["--signature", "t=1704110400"],
            BODY,
            "webhook_signature_malformed",
        ),
        (
            &["--signature", "v1=8a74,t=x"],
            BODY,
            "webhook_signature_malformed",
        ),
    ];
    for (args, body, code) in cases {
        let mut all = vec!["--secret-file", secret.as_str(), "--output", "json"];
        all.extend_from_slice(args);
        let run = verify(&all, body);
        assert_eq!(run.code, 4, "{args:?}: {}", run.stdout);
        assert_eq!(run.json["ok"], false);
        assert_eq!(run.json["error"]["code"], code, "{args:?}");
        assert!(run.json["error"]["fix"].is_string());
    }
    // Text output: the reason and its code on stderr, nothing that says valid.
    let run = verify(&["--secret-file", &secret, "--signature", SIG_2024], BODY);
    assert_eq!(run.code, 4);
    assert!(
        run.stdout.contains("[webhook_signature_too_old]"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("valid\n"), "{}", run.stdout);
}

#[test]
fn secret_file_and_body_problems() {
    let dir = dir("inputs");
    let secret = secret_file(&dir);
    let empty = write(&dir, "empty", "\n").display().to_string();
    let missing = dir.join("missing").display().to_string();
    let not_utf8 = dir.join("binary");
    std::fs::write(&not_utf8, b"\xff\xfe").unwrap();
    let not_utf8 = not_utf8.display().to_string();
    for (file, code) in [
        (empty.as_str(), "webhook_secret_missing"),
        (missing.as_str(), "webhook_secret_unreadable"),
        (not_utf8.as_str(), "webhook_secret_unreadable"),
    ] {
        let run = verify(
            &[
                "--secret-file",
                file,
                "--signature",
                SIG_2024,
                "--output",
                "json",
            ],
            BODY,
        );
        assert_eq!(run.code, 4, "{file}: {}", run.stdout);
        assert_eq!(run.json["error"]["code"], code, "{file}");
    }
    // A body over 1 MiB is refused, not truncated and checked.
    let huge = vec![b'x'; 1024 * 1024 + 1];
    let run = verify(
        &[
            "--secret-file",
            &secret,
            "--signature",
            SIG_2024,
            "--output",
            "json",
        ],
        &huge,
    );
    assert_eq!(run.code, 4, "{}", run.stdout);
    assert_eq!(run.json["error"]["code"], "webhook_body_unreadable");
    // The arguments are required.
    let run = verify(&["--signature", SIG_2024], BODY);
    assert_eq!(run.code, 2, "{}", run.stdout);
}

//! Initial passwords, login IDs and password hashing.

use secrecy::ExposeSecret;

use super::*;

#[test]
fn initial_passwords_are_long_unambiguous_and_differ() {
    let a = initial_password();
    let b = initial_password();
    assert_eq!(a.expose_secret().len(), INITIAL_PASSWORD_CHARS);
    assert!(a.expose_secret().bytes().all(|c| ALPHABET.contains(&c)));
    assert_ne!(a.expose_secret(), b.expose_secret());
}

#[test]
fn login_ids_and_new_passwords_are_checked() {
    assert!(valid_login("kato.h@home-help"));
    assert!(!valid_login("ab") && !valid_login("佐藤") && !valid_login("a b c"));
    assert!(check_new_password("kato", "short").is_err());
    assert!(check_new_password("kato-helper-1", "KATO-HELPER-1").is_err());
    assert!(check_new_password("kato", "correct horse battery").is_ok());
}

#[tokio::test]
async fn passwords_hash_with_argon2id_and_verify() {
    let h = hash_password("correct horse battery").await.unwrap_or_default();
    assert!(h.starts_with("$argon2id$"), "{h}");
    assert!(
        password_matches(h.clone(), "correct horse battery")
            .await
            .unwrap_or(false)
    );
    assert!(!password_matches(h, "correct horse batterY").await.unwrap_or(true));
    assert!(!password_matches("not a hash".into(), "x").await.unwrap_or(true));
}

//! The rules' decisions, as a table of cases, and a property over generated hostile paths.

use proptest::prelude::*;

use super::*;

const SHOP: &str = r#"
home = "users/{uid}/"
[[folder]]
path = "users/{uid}/"
upload = "owner"
read = "owner"
delete = "owner"
list = "owner"
max_size = "20 MB"
types = ["image/*", "application/pdf"]
[[folder]]
path = "products/"
upload = "role:editor"
delete = "role:editor"
read = "anyone"
list = "signed-in"
"#;

const MALL: &str = r#"
home = "users/{uid}/"
[[folder]]
path = "users/{uid}/"
upload = "owner"
read = "owner"
delete = "owner"
list = "owner"
[[folder]]
path = "users/{uid}/public/"
upload = "owner"
read = "anyone"
delete = "owner"
list = "owner"
[[folder]]
path = "shops/{shop}/products/"
upload = "role:{shop}-editor"
read = ["signed-in"]
delete = ["role:{shop}-editor", "role:admin"]
list = "role:{shop}-editor"
[[folder]]
path = "public/"
upload = "role:admin"
read = "anyone"
list = "anyone"
"#;

/// `-` for no one signed in, `42` for user 42, `42:editor,admin` with roles.
fn caller(text: &str) -> Option<Identity> {
    (text != "-").then(|| {
        let (uid, roles) = text.split_once(':').unwrap_or((text, ""));
        Identity {
            uid: uid.into(),
            roles: roles.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
        }
    })
}

/// The key an operation acts on: an upload's path is resolved, the others name keys.
fn decide(rules: &Rules, op: Op, path: &str, who: Option<&Identity>) -> (bool, String) {
    let key = if op == Op::Upload {
        match rules.resolve(path, who) {
            Ok(key) => key,
            Err(_) => return (false, String::new()),
        }
    } else {
        path.to_owned()
    };
    if wx_cloud_storage_core::validate_key(&key).is_err() {
        return (false, key);
    }
    (rules.decide(op, &key, who).allowed, key)
}

#[test]
fn a_table_of_decisions() {
    let shop = Rules::parse("shop.toml", SHOP).unwrap();
    let mall = Rules::parse("mall.toml", MALL).unwrap();
    let cases: &[(&Rules, &str, Op, &str, bool, &str)] = &[
        (&shop, "42", Op::Upload, "a.png", true, "users/42/a.png"),
        (&shop, "42", Op::Upload, "users/42/a.png", true, "users/42/a.png"),
        (&shop, "42", Op::Upload, "users/7/a.png", false, ""),
        (&shop, "42", Op::Upload, "users/420/a.png", false, ""),
        (&shop, "42", Op::Upload, "users/4/a.png", false, ""),
        (&shop, "42", Op::Upload, "users/a.png", false, ""),
        (&shop, "42", Op::Read, "users/42/a.png", true, ""),
        (&shop, "-", Op::Read, "users/42/a.png", false, ""),
        (&shop, "7", Op::Read, "users/42/a.png", false, ""),
        (&shop, "42", Op::Delete, "users/42/a.png", true, ""),
        (&shop, "42", Op::List, "users/42/x", true, ""),
        (&shop, "7", Op::List, "users/42/x", false, ""),
        (&shop, "42", Op::Upload, "products/p.png", false, ""),
        (&shop, "42:editor", Op::Upload, "products/p.png", true, "products/p.png"),
        (&shop, "-", Op::Read, "products/p.png", true, ""),
        (&shop, "42", Op::Read, "products/p.png", true, ""),
        (&shop, "42", Op::Delete, "products/p.png", false, ""),
        (&shop, "42:editor", Op::Delete, "products/p.png", true, ""),
        (&shop, "-", Op::List, "products/x", false, ""),
        (&shop, "42", Op::List, "products/x", true, ""),
        (&shop, "42:editor", Op::Upload, "products/sub/p.png", true, "products/sub/p.png"),
        (&shop, "42:editor", Op::Upload, "productsx/p.png", true, "users/42/productsx/p.png"),
        (&shop, "-", Op::Upload, "a.png", false, ""),
        (&shop, "42", Op::Read, "elsewhere/a.png", false, ""),
        (&shop, "42", Op::Upload, "users/42/../7/a.png", false, ""),
        (&shop, "42", Op::Upload, "users/42/%2e%2e/7/a.png", false, ""),
        (&shop, "42", Op::Upload, "ｕsers/7/a.png", true, "users/42/ｕsers/7/a.png"),
        (&shop, "42:Editor", Op::Delete, "products/p.png", false, ""),
        (&shop, "42:Editor", Op::Read, "products/p.png", true, ""),
        (&mall, "-", Op::Read, "users/42/public/a.png", true, ""),
        (&mall, "42", Op::Upload, "users/42/public/a.png", true, "users/42/public/a.png"),
        (&mall, "7", Op::Upload, "users/42/public/a.png", false, ""),
        (&mall, "-", Op::Read, "users/42/private.png", false, ""),
        (&mall, "7:3-editor", Op::Upload, "shops/3/products/a.png", true, "shops/3/products/a.png"),
        (&mall, "7:3-editor", Op::Upload, "shops/4/products/a.png", false, ""),
        (&mall, "7:admin", Op::Delete, "shops/4/products/a.png", true, ""),
        (&mall, "-", Op::Read, "shops/4/products/a.png", false, ""),
        (&mall, "7", Op::Read, "shops/4/products/a.png", true, ""),
        (&mall, "7:3-editor", Op::List, "shops/3/products/x", true, ""),
        (&mall, "7:3-editor", Op::Upload, "shops/3/a.png", false, ""),
        (&mall, "-", Op::Read, "public/a.png", true, ""),
        (&mall, "-", Op::List, "public/x", true, ""),
        (&mall, "7", Op::Upload, "public/a.png", false, ""),
        (&mall, "7:admin", Op::Upload, "public/a.png", true, "public/a.png"),
        (&mall, "42", Op::Upload, "users/42/public", true, "users/42/public"),
        (&mall, "7", Op::Delete, "public/a.png", false, ""),
    ];
    assert!(cases.len() >= 40);
    for (rules, who, op, path, allowed, key) in cases {
        let who = caller(who);
        let (got, got_key) = decide(rules, *op, path, who.as_ref());
        assert_eq!(
            got,
            *allowed,
            "{} {path} by {who:?}: {}",
            op.as_str(),
            rules.explain(*op, path, who.as_ref()).1
        );
        if !key.is_empty() {
            assert_eq!(got_key, *key, "{path}");
        }
    }
}

#[test]
fn flags_give_todays_single_folder() {
    let rules = Rules::single_folder("users/{uid}/", Limits::default()).unwrap();
    let me = caller("42");
    assert_eq!(decide(&rules, Op::Upload, "a.png", me.as_ref()), (true, "users/42/a.png".into()));
    assert!(!decide(&rules, Op::Upload, "users/7/a.png", me.as_ref()).0);
    assert!(!decide(&rules, Op::Upload, "users/a.png", me.as_ref()).0);
    assert!(!rules.admits_anonymous());
    let shared = Rules::single_folder("", Limits::default()).unwrap();
    assert_eq!(decide(&shared, Op::Upload, "a.png", me.as_ref()), (true, "a.png".into()));
    assert!(!decide(&shared, Op::Read, "a.png", None).0);
    for bad in ["users/{uid}", "users/u{uid}/", "/users/{uid}/", "users//{uid}/", "t/{x}/"] {
        assert!(Rules::single_folder(bad, Limits::default()).is_err(), "{bad}");
    }
}

#[test]
fn bad_rule_files_are_refused_with_their_line() {
    let cases = [
        ("[[folder]]\npath = \"users/{uid}\"\nread = \"owner\"\n", "line 2", "must end with '/'"),
        ("[[folder]]\npath = \"a/\"\nread = \"group:admin\"\n", "line 3", "unknown kind \"group\""),
        ("[[folder]]\npath = \"a/\"\n", "line 1", "lets no one"),
        ("[[folder]]\npath = \"a/\"\nupload = \"anyone\"\n", "line 3", "may only read or list"),
        ("[[folder]]\npath = \"a/\"\nread = \"owner\"\n", "line 3", "has no {uid}"),
        ("[[folder]]\npath = \"s/{shop}/\"\nread = \"role:{store}-x\"\n", "line 3", "no capture {store}"),
        ("[[folder]]\npath = \"a/\"\nread = \"signed-in\"\nmax_size = \"20 parsecs\"\n", "line 4", "unknown unit"),
        ("[[folder]]\npath = \"a/\"\nread = \"signed-in\"\ntypes = [\"image\"]\n", "line 4", "not a type"),
        ("[[folder]]\npath = \"a/\"\nread = \"signed-in\"\ncolour = 1\n", "line 4", "unknown field `colour`"),
        ("[[folder]]\npath = \"s/{a}/x/\"\nread = \"signed-in\"\n[[folder]]\npath = \"s/{b}/x/\"\nread = \"signed-in\"\n", "line 4", "could both hold"),
        ("home = \"pub/\"\n[[folder]]\npath = \"pub/\"\nread = \"anyone\"\n", "line 1", "no folder lets"),
        ("home = \"users/{uid}/\n", "line 1", ""),
        ("", "", "no [[folder]]"),
    ];
    for (text, line, says) in cases {
        let error = Rules::parse("rules.toml", text).unwrap_err().0;
        assert!(error.contains(line) && error.contains(says), "{text:?}: {error}");
        assert!(error.starts_with("rules.toml"), "{error}");
    }
}

#[test]
fn sizes() {
    assert_eq!(file::parse_size("20 MB"), Ok(20_000_000));
    assert_eq!(file::parse_size("512KiB"), Ok(524_288));
    assert_eq!(file::parse_size("100"), Ok(100));
    assert!(file::parse_size("MB").is_err());
    assert!(file::parse_size("99999999999 GiB").is_err());
}

#[test]
fn explanations_name_the_rule_that_decided() {
    let rules = Rules::parse("shop.toml", SHOP).unwrap();
    let (allowed, text) = rules.explain(Op::Upload, "a.png", caller("42").as_ref());
    assert!(allowed);
    assert_eq!(
        text,
        "allow upload users/42/a.png\n  path     a.png goes into your home folder: users/42/a.png\n  folder   users/{uid}/ (shop.toml line 3)\n  rule     upload = owner; owner: {uid} = \"42\" is the caller\n  limits   max_size 20000000 bytes; types image/*, application/pdf\n"
    );
    let (allowed, text) = rules.explain(Op::Delete, "products/p.png", caller("42:viewer").as_ref());
    assert!(!allowed);
    assert!(
        text.starts_with("deny delete products/p.png\n  folder   products/ (shop.toml line 11)\n"),
        "{text}"
    );
    assert!(text.contains("role:editor: the caller's roles (viewer) do not include \"editor\""), "{text}");
}

/// Segments built from what tricks a path comparison: look-alikes, encodings, dot
/// segments, case, separators, and the names the rules use.
fn segment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "users",
        "Users",
        "ｕsers",
        "users\u{301}",
        "products",
        "Products",
        "products\u{200b}",
        "42",
        "7",
        "420",
        "4",
        "..",
        ".",
        "%2e%2e",
        "%2f",
        "．．",
        "／",
        "a.png",
        "",
        "\\",
        "users%2f7",
        "public",
        "$x",
        "?",
    ])
    .prop_map(str::to_owned)
}

proptest! {
    /// However a path is spelled, an allowed upload lands in a folder the rules give that
    /// caller (their own `users/<uid>/`, or `products/` for an editor), and an allowed read
    /// by someone not signed in is in `products/`.
    #[test]
    fn no_generated_path_is_allowed_outside_the_folders_granted(
        parts in prop::collection::vec(segment(), 1..5),
        uid in prop::sample::select(vec!["42", "7", "4"]),
        editor in any::<bool>(),
    ) {
        let rules = Rules::parse("shop.toml", SHOP).unwrap();
        let path = parts.join("/");
        let who = Identity { uid: uid.into(), roles: if editor { vec!["editor".into()] } else { vec![] } };
        let (allowed, key) = decide(&rules, Op::Upload, &path, Some(&who));
        if allowed {
            let own = key.starts_with(&format!("users/{uid}/"));
            let shared = editor && key.starts_with("products/");
            prop_assert!(own || shared, "{path:?} → {key:?} allowed to {uid} (editor {editor})");
        }
        for op in [Op::Read, Op::Delete, Op::List] {
            let (allowed, _) = decide(&rules, op, &path, Some(&who));
            if allowed {
                let own = path.starts_with(&format!("users/{uid}/"));
                let shared = path.starts_with("products/") && (op != Op::Delete || editor);
                prop_assert!(own || shared, "{} {path:?} allowed to {uid}", op.as_str());
            }
            let (anonymous, _) = decide(&rules, op, &path, None);
            if anonymous {
                prop_assert!(op == Op::Read && path.starts_with("products/"), "{} {path:?} allowed to anyone", op.as_str());
            }
        }
    }
}

//! The chain through the server and the CLI: the read-only API, proof
//! bundles verified offline, `chain check`, and `kill -9` while blocks are
//! being written.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use shucang_chain::{Address, CollectionId, MintItem, NewCollection, Operation, SigningKey};
use shucang_verify::Suite;

use crate::harness::{TestApp, assert_error};
use crate::process::shucang;
use crate::support::{assert_success, chain_check, header, u64s};

const SUITE: Suite = Suite::Ed25519Sha256;

fn coll() -> CollectionId {
    CollectionId::parse("feitian").unwrap()
}

/// Commits create → mint (3 tokens to Alice) → transfer (token 2 to Bob);
/// returns Alice's key, Bob's address and the three transaction hashes.
pub async fn populate(app: &TestApp) -> (SigningKey, Address, Vec<String>) {
    let node = app.node_key();
    let alice = SigningKey::from_secret(SUITE, &[21; 32]).unwrap();
    let bob = Address::of_public_key(
        SUITE,
        &SigningKey::from_secret(SUITE, &[22; 32])
            .unwrap()
            .public_key(),
    );
    let alice_addr = Address::of_public_key(SUITE, &alice.public_key());
    let ops = vec![
        (
            node.clone(),
            Operation::CreateCollection(NewCollection {
                collection: coll(),
                name: "飞天".into(),
                symbol: "FT".into(),
                supply_cap: 10,
                issuer: "敦煌文创".into(),
                metadata_uri: "https://example.cn/feitian.json".into(),
                metadata_hash: [1; 32],
            }),
        ),
        (
            node.clone(),
            Operation::Mint {
                collection: coll(),
                items: (1..=3)
                    .map(|i| MintItem::edition(i, alice_addr, [i as u8; 32]))
                    .collect(),
            },
        ),
        (
            alice.clone(),
            Operation::Transfer {
                collection: coll(),
                token_id: 2,
                to: bob,
            },
        ),
    ];
    let mut hashes = Vec::new();
    for (nonce, (key, operation)) in ops.into_iter().enumerate() {
        let receipt = app.commit(&key, nonce as u64, operation).await;
        hashes.push(hex::encode(receipt.tx_hash));
    }
    (alice, bob, hashes)
}

async fn json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path, None).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_chain_api_answers_what_an_explorer_needs() {
    let app = TestApp::spawn().await;
    let (alice, bob, hashes) = populate(&app).await;
    let alice_addr = Address::of_public_key(SUITE, &alice.public_key()).to_string();

    let stats = json(&app, "/api/v1/chain/stats").await;
    assert_eq!(stats["height"], 3);
    assert_eq!(stats["tx_count"], 3);
    assert_eq!(stats["token_count"], 3);
    assert_eq!(stats["suite"], "ed25519-sha256");
    let node_key = app.node_key().public_key();
    assert_eq!(stats["node_public_key"], hex::encode(&node_key));
    let vkey =
        shucang_verify::vkey::VerifierKey::parse(stats["node_vkey"].as_str().unwrap()).unwrap();
    assert_eq!(
        (vkey.name.as_str(), vkey.public_key.as_slice()),
        ("shucang.local/chain", node_key.as_slice())
    );
    assert_eq!(stats["genesis_hash"].as_str().unwrap().len(), 64);

    let page = json(&app, "/api/v1/chain/blocks?limit=2").await;
    let heights = u64s(&page["blocks"], "height");
    assert_eq!(heights, vec![3, 2]);
    assert_eq!(page["next_before"], 2);
    let rest = json(&app, "/api/v1/chain/blocks?before=2&limit=2").await;
    assert_eq!(rest["blocks"].as_array().unwrap().len(), 1);
    assert!(rest["next_before"].is_null());

    let block = json(&app, "/api/v1/chain/blocks/2").await;
    assert_eq!(block["tx_hashes"][0], hashes[1]);
    let by_hash = json(
        &app,
        &format!("/api/v1/chain/blocks/{}", block["hash"].as_str().unwrap()),
    )
    .await;
    assert_eq!(by_hash["height"], 2);

    let tx = json(&app, &format!("/api/v1/chain/txs/{}", hashes[2])).await;
    assert_eq!(tx["operation"]["type"], "transfer");
    assert_eq!(tx["operation"]["from"], alice_addr);
    assert_eq!(tx["operation"]["to"], bob.to_string());
    assert_eq!(tx["block_height"], 3);
    assert_eq!(tx["leaf_index"], 2);

    let address = json(&app, &format!("/api/v1/chain/addresses/{alice_addr}")).await;
    let held = u64s(&address["holdings"], "token_id");
    assert_eq!(held, vec![1, 3]);
    assert_eq!(address["holdings_total"], 2);
    assert_eq!(address["next_offset"], Value::Null);
    assert_eq!(address["history"].as_array().unwrap().len(), 2);
    // Holdings come a page at a time.
    let first = json(
        &app,
        &format!("/api/v1/chain/addresses/{alice_addr}?limit=1"),
    )
    .await;
    assert_eq!(u64s(&first["holdings"], "token_id"), vec![1]);
    assert_eq!(
        (
            first["holdings_total"].as_u64(),
            first["next_offset"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let second = json(
        &app,
        &format!("/api/v1/chain/addresses/{alice_addr}?offset=1&limit=1"),
    )
    .await;
    assert_eq!(u64s(&second["holdings"], "token_id"), vec![3]);
    assert_eq!(second["next_offset"], Value::Null);

    let token = json(&app, "/api/v1/chain/tokens/feitian/2").await;
    assert_eq!(token["owner"], bob.to_string());
    assert_eq!(token["edition"], 2);
    assert_eq!(token["supply_cap"], 10);
    let history: Vec<&str> = token["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["operation"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["mint", "transfer"]);

    let collection = json(&app, "/api/v1/chain/collections/feitian").await;
    assert_eq!(collection["minted"], 3);
    assert_eq!(collection["created_by_tx"], hashes[0]);

    let res = app.get("/api/v1/chain/checkpoint", None).await;
    assert!(header(&res, "content-type").starts_with("text/plain"));
    let checkpoint = res.text().await.unwrap();
    let cp = shucang_verify::note::verify_checkpoint(SUITE, &node_key, &checkpoint).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size), ("shucang.local/chain", 3));

    let c = json(&app, "/api/v1/chain/consistency?from=1&to=3").await;
    let h = |v: &Value| -> [u8; 32] {
        hex::decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let proof: Vec<[u8; 32]> = c["proof"].as_array().unwrap().iter().map(h).collect();
    shucang_verify::merkle::verify_consistency(
        SUITE,
        1,
        3,
        &proof,
        &h(&c["from_root"]),
        &h(&c["to_root"]),
    )
    .unwrap();
    assert_eq!(h(&c["to_root"]), cp.root);

    bad_requests_have_their_codes(&app).await;
    app.stop().await;
}

/// Bad input: 400 with a code; unknown: 404.
async fn bad_requests_have_their_codes(app: &TestApp) {
    for (path, status, code) in [
        (
            "/api/v1/chain/blocks/abc",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/blocks/-1",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/blocks/99",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/api/v1/chain/blocks/0", StatusCode::NOT_FOUND, "not_found"),
        (
            "/api/v1/chain/blocks?limit=0",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/blocks?limit=101",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/blocks?before=x",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/txs/zz",
            StatusCode::BAD_REQUEST,
            "invalid_hash",
        ),
        (
            "/api/v1/chain/txs/0000000000000000000000000000000000000000000000000000000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/chain/txs/zz/proof",
            StatusCode::BAD_REQUEST,
            "invalid_hash",
        ),
        (
            "/api/v1/chain/addresses/0x12",
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (
            "/api/v1/chain/addresses/0x0000000000000000000000000000000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/chain/tokens/FEITIAN/1",
            StatusCode::BAD_REQUEST,
            "invalid_collection",
        ),
        (
            "/api/v1/chain/tokens/feitian/one",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/tokens/feitian/99",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/chain/collections/none",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/chain/consistency?from=0&to=3",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/consistency?from=3&to=1",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/consistency?from=1",
            StatusCode::BAD_REQUEST,
            "invalid_number",
        ),
        (
            "/api/v1/chain/consistency?from=1&to=99",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        assert_error(app.get(path, None).await, status, code).await;
    }
}

#[tokio::test]
async fn proof_bundles_verify_offline_and_any_change_is_caught() {
    let app = TestApp::spawn().await;
    let (_, _, hashes) = populate(&app).await;
    let node_key = hex::encode(app.node_key().public_key());
    let text = app
        .get(&format!("/api/v1/chain/txs/{}/proof", hashes[1]), None)
        .await
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    std::fs::write(&file, &text).unwrap();

    // The CLI: valid with the node key, invalid with another or after a change.
    let run = |file: std::path::PathBuf, key: String| async move {
        shucang()
            .args(["chain", "verify-proof"])
            .arg(file)
            .args(["--public-key", &key])
            .output()
            .await
            .unwrap()
    };
    let out = run(file.clone(), node_key.clone()).await;
    assert_success(&out);
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("valid:") && line.contains(&hashes[1]) && line.contains("leaf 1"),
        "{line}"
    );
    verify_with_the_vkey(&app, &file, &text).await;
    let other = hex::encode(
        SigningKey::from_secret(SUITE, &[9; 32])
            .unwrap()
            .public_key(),
    );
    let out = run(file.clone(), other).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid proof"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in ["{}", "not json", "[]"] {
        std::fs::write(&file, bad).unwrap();
        let out = run(file.clone(), node_key.clone()).await;
        assert_eq!(out.status.code(), Some(1), "{bad}");
    }
    let out = run(dir.path().join("missing.json"), node_key.clone()).await;
    assert_eq!(out.status.code(), Some(1));

    // Every byte of the transaction, the path and the checkpoint matters
    // (checked through the same function the CLI calls).
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let node = shucang_web::proof::NodeKey::Hex(node_key.clone());
    let verify = |b: &Value| shucang_web::proof::verify_bundle_json(&b.to_string(), &node);
    verify(&bundle).unwrap();
    let flip_hex = |s: &str, i: usize| -> String {
        let mut bytes = hex::decode(s).unwrap();
        bytes[i] ^= 0x01;
        hex::encode(bytes)
    };
    let tx_len = bundle["tx"].as_str().unwrap().len() / 2;
    for i in 0..tx_len {
        let mut b = bundle.clone();
        b["tx"] = Value::String(flip_hex(bundle["tx"].as_str().unwrap(), i));
        assert!(verify(&b).is_err(), "tx byte {i}");
    }
    let path = bundle["inclusion_path"].as_array().unwrap().clone();
    assert!(!path.is_empty());
    for (p, entry) in path.iter().enumerate() {
        for i in 0..32 {
            let mut b = bundle.clone();
            b["inclusion_path"][p] = Value::String(flip_hex(entry.as_str().unwrap(), i));
            assert!(verify(&b).is_err(), "path {p} byte {i}");
        }
    }
    let checkpoint = bundle["checkpoint"].as_str().unwrap().to_owned();
    for i in 0..checkpoint.len() {
        let mut bytes = checkpoint.clone().into_bytes();
        bytes[i] ^= 0x01;
        if let Ok(changed) = String::from_utf8(bytes) {
            let mut b = bundle.clone();
            b["checkpoint"] = Value::String(changed);
            assert!(verify(&b).is_err(), "checkpoint byte {i}");
        }
    }
    for (field, value) in [
        ("leaf_index", Value::from(2)),
        ("tree_size", Value::from(4)),
        ("tx_hash", Value::String(hashes[0].clone())),
        ("suite", Value::from("sm2-sm3")),
        ("format", Value::from("shucang-proof/v3")),
    ] {
        let mut b = bundle.clone();
        b[field] = value;
        assert!(verify(&b).is_err(), "{field}");
    }
    // Every field is covered by one of the checks above: nothing else may
    // ride along (a field no check covers could be changed unnoticed), and
    // v1's unchecked block height is refused.
    let fields: Vec<&String> = bundle.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "checkpoint",
            "format",
            "inclusion_path",
            "leaf_index",
            "suite",
            "tree_size",
            "tx",
            "tx_hash"
        ]
    );
    let mut b = bundle.clone();
    b["block_height"] = Value::from(99);
    assert!(verify(&b).is_err(), "an added block height");
    b["format"] = Value::from("shucang-proof/v1");
    let err = verify(&b).unwrap_err();
    assert!(err.contains("download the proof again"), "{err}");
    app.stop().await;
}

/// `verify-proof --vkey` with the node's published verifier key, refused
/// for a key of another name; `verify-note` opens the bundle's checkpoint.
async fn verify_with_the_vkey(app: &TestApp, file: &std::path::Path, text: &str) {
    // The same with the C2SP verifier key; a key of another name is refused.
    let stats = json(app, "/api/v1/chain/stats").await;
    let vkey = stats["node_vkey"].as_str().unwrap().to_owned();
    let with_vkey = |vkey: String| {
        let file = file.to_owned();
        async move {
            let args = ["chain", "verify-proof", "--vkey", vkey.as_str()];
            shucang().args(args).arg(file).output().await.unwrap()
        }
    };
    assert_success(&with_vkey(vkey.clone()).await);
    let renamed = shucang_verify::vkey::VerifierKey::new(
        SUITE,
        "someone.else/chain",
        &app.node_key().public_key(),
    );
    let out = with_vkey(renamed.to_string()).await;
    assert_eq!(out.status.code(), Some(1));
    // The checkpoint alone is a C2SP signed note: `verify-note` opens it.
    let bundle: Value = serde_json::from_str(text).unwrap();
    let note = file.with_file_name("checkpoint.note");
    std::fs::write(&note, bundle["checkpoint"].as_str().unwrap()).unwrap();
    let out = shucang()
        .args(["chain", "verify-note", "--vkey", &vkey])
        .arg(&note)
        .output()
        .await
        .unwrap();
    assert_success(&out);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.starts_with("valid: signed by shucang.local/chain\nshucang.local/chain\n"),
        "{printed}"
    );
    let out = shucang()
        .args(["chain", "verify-note", "--vkey", &renamed.to_string()])
        .arg(&note)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signature by the expected key"));
}

#[tokio::test]
async fn chain_check_passes_then_names_a_damaged_block() {
    let app = TestApp::spawn().await;
    populate(&app).await;
    let block2 = app.chain.block(2).unwrap().unwrap().0.location;
    let data_dir = app.config.data_dir.clone();
    let _dir = app.stop().await;
    let out = chain_check(&data_dir).await;
    assert_success(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("chain intact: 3 blocks, 3 transactions")
    );

    let segment = data_dir.join("chain/segment-00000000.log");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[(block2.offset + 8 + 40) as usize] ^= 0xff;
    std::fs::write(&segment, &bytes).unwrap();
    let out = chain_check(&data_dir).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("block 2"), "{err}");

    let out = chain_check("/nonexistent/shucang".as_ref()).await;
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn kill_9_while_blocks_are_written_loses_no_acknowledged_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut load = shucang();
    load.args([
        "chain",
        "load",
        "--txs",
        "20000",
        "--clients",
        "64",
        "--data-dir",
    ])
    .arg(dir.path());
    let (mut child, mut lines) = crate::process::spawn_piped(load);
    let mut acked = Vec::new();
    let reading = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("ack ") {
                acked.push(rest.split(' ').nth(1).unwrap().to_owned());
                if acked.len() >= 3000 {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), reading)
        .await
        .expect("acknowledgements arrive");
    child.kill().await.unwrap();
    assert!(acked.len() >= 3000, "{} acks", acked.len());

    // Before any restart, the check passes or reports only a torn tail.
    let out = chain_check(dir.path()).await;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("torn tail"), "{err}");
    }

    // Restart: every acknowledged transaction is there; the tail is cut.
    let mut config = shucang_config::Config::load(None, std::iter::empty()).unwrap();
    config.data_dir = dir.path().to_owned();
    let secrets = shucang_config::Secrets::load_or_create(dir.path(), std::iter::empty()).unwrap();
    let clock = std::sync::Arc::new(shucang_types::SystemClock);
    let chain =
        shucang::open_chain(shucang::chain_config(&config, &secrets, clock).unwrap()).unwrap();
    for hash in &acked {
        let hash: [u8; 32] = hex::decode(hash).unwrap().try_into().unwrap();
        assert!(
            chain.tx(&hash).unwrap().is_some(),
            "acknowledged {} is missing",
            hex::encode(hash)
        );
    }
    let stats = chain.stats().unwrap();
    assert!(
        stats.tx_count > acked.len() as u64,
        "the collection's creation and the acks"
    );
    chain.close();
    drop(chain);
    let out = chain_check(dir.path()).await;
    assert_success(&out);
}

/// A collection of 450 tokens: the API and the explorer page hand out its
/// token ids a page at a time (a collection of a million would otherwise be
/// copied whole into every answer).
#[tokio::test]
async fn a_large_collection_pages_through_its_tokens() {
    let app = TestApp::spawn().await;
    let node = app.node_key();
    let owner = Address::of_public_key(SUITE, &node.public_key());
    let big = CollectionId::parse("big").unwrap();
    let ops = [
        Operation::CreateCollection(NewCollection {
            collection: big.clone(),
            name: "大集合".into(),
            symbol: "BIG".into(),
            supply_cap: 1000,
            issuer: "测试".into(),
            metadata_uri: "https://example.cn/big.json".into(),
            metadata_hash: [7; 32],
        }),
        Operation::Mint {
            collection: big.clone(),
            items: (1..=450)
                .map(|i| MintItem::edition(i, owner, [1; 32]))
                .collect(),
        },
    ];
    for (nonce, operation) in ops.into_iter().enumerate() {
        app.commit(&node, nonce as u64, operation).await;
    }

    let first = json(&app, "/api/v1/chain/collections/big").await;
    assert_eq!(first["minted"], 450);
    assert_eq!(first["token_ids"].as_array().unwrap().len(), 450);
    assert_eq!(first["next_offset"], Value::Null);
    let page = json(&app, "/api/v1/chain/collections/big?offset=400&limit=30").await;
    let ids: Vec<u64> = page["token_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(ids, (401..=430).collect::<Vec<_>>());
    assert_eq!(
        (page["offset"].as_u64(), page["next_offset"].as_u64()),
        (Some(400), Some(430))
    );
    let last = json(&app, "/api/v1/chain/collections/big?offset=430&limit=30").await;
    assert_eq!(last["token_ids"].as_array().unwrap().len(), 20);
    assert_eq!(last["next_offset"], Value::Null);
    for bad in ["?limit=0", "?limit=10001", "?offset=-1", "?limit=x"] {
        let res = app
            .get(&format!("/api/v1/chain/collections/big{bad}"), None)
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_number").await;
    }

    let html = |path: &'static str| {
        let app = &app;
        async move {
            let res = app.page(path).await;
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, one) = html("/explorer/collections/big").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one.matches("href=\"/explorer/tokens/big/").count(), 200);
    let pager = &one[one.find("pager").unwrap_or(0)..];
    assert!(
        one.contains("第 1 页，共 3 页") && one.contains("collections&#x2f;big?page=2\""),
        "{}",
        &pager[..pager.len().min(600)]
    );
    let (_, three) = html("/explorer/collections/big?page=3").await;
    assert_eq!(three.matches("href=\"/explorer/tokens/big/").count(), 50);
    assert!(three.contains("href=\"/explorer/tokens/big/450\""));
    assert_eq!(html("/explorer/blocks/1?page=1").await.0, StatusCode::OK);
    let (_, en) = html("/explorer/collections/big?page=2&lang=en").await;
    assert!(en.contains("Page 2 of 3") && en.contains("?page=3&amp;lang=en"));
    for bad in [
        "/explorer/collections/big?page=4",
        "/explorer/collections/big?page=0",
        "/explorer/collections/big?page=x",
        "/explorer/blocks/1?page=2",
        "/explorer/blocks/1?page=0",
    ] {
        assert_eq!(html(bad).await.0, StatusCode::NOT_FOUND, "{bad}");
    }
    app.stop().await;
}

/// `chain verify-note` is a plain C2SP signed-note verifier: the test note
/// of Go's golang.org/x/mod/sumdb/note verifies with its published key.
#[tokio::test]
async fn verify_note_checks_a_note_signed_elsewhere() {
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const NOTE: &str = "If you think cryptography is the answer to your problem,\n\
        then you don't know what your problem is.\n\n\
        \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    let dir = tempfile::tempdir().unwrap();
    let run = |note: &str, vkey: &str| {
        let file = dir.path().join("note.txt");
        std::fs::write(&file, note).unwrap();
        let mut cmd = shucang();
        cmd.args(["chain", "verify-note", "--vkey", vkey]).arg(file);
        async move { cmd.output().await.unwrap() }
    };
    let out = run(NOTE, VKEY).await;
    assert_success(&out);
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        printed.contains("signed by PeterNeumann")
            && printed.contains("the answer to your problem")
    );
    let forged = NOTE.replacen("answer", "Answer", 1);
    let out = run(&forged, VKEY).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
    let out = run(
        NOTE,
        "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vkey"));
}

/// A checkpoint for the node's log signed with its key (as only the node
/// could): what a rewritten or lying node would serve.
pub fn signed_by_node(app: &TestApp, size: u64, root: [u8; 32]) -> String {
    let key = app.node_key();
    let checkpoint = shucang_verify::note::Checkpoint {
        origin: "shucang.local/chain".into(),
        size,
        root,
    };
    let body = checkpoint.body();
    let signature = key.sign(body.as_bytes());
    let line = shucang_verify::note::signature_line(
        SUITE,
        &checkpoint.origin,
        &key.public_key(),
        &signature,
    );
    format!("{body}\n{line}")
}

/// `chain audit`: the log grew from a kept checkpoint (exit 0, and the new
/// checkpoint saved); each way it can fail has its own exit code.
#[tokio::test]
async fn chain_audit_proves_the_log_only_grew() {
    let app = TestApp::spawn().await;
    populate(&app).await;
    let kept = app.checkpoint_text().await;
    app.grow_chain(10, "later").await;
    let vkey = json(&app, "/api/v1/chain/stats").await["node_vkey"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let audit = |checkpoint: String, url: String, vkey: String| {
        let file = dir.path().join("kept.note");
        std::fs::write(&file, checkpoint).unwrap();
        let saved = dir.path().join("now.note");
        let mut cmd = shucang();
        cmd.args(["chain", "audit", "--url", &url, "--vkey", &vkey, "--since"])
            .arg(file)
            .arg("--save")
            .arg(saved);
        async move { cmd.output().await.unwrap() }
    };
    let base = app.url("");
    let out = audit(kept.clone(), base.clone(), vkey.clone()).await;
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("grew from 3 to 4 entries"), "{said}");
    let now = std::fs::read_to_string(dir.path().join("now.note")).unwrap();
    // The saved checkpoint is the next audit's start: same size, same root.
    assert_success(&audit(now.clone(), base.clone(), vkey.clone()).await);

    let code = |out: std::process::Output| out.status.code();
    // A changed kept checkpoint, or another key: the kept one fails (2).
    let changed = kept.replacen("\n3\n", "\n2\n", 1);
    assert_eq!(
        code(audit(changed, base.clone(), vkey.clone()).await),
        Some(2)
    );
    let other = shucang_verify::vkey::VerifierKey::new(SUITE, "shucang.local/chain", &[7; 32]);
    assert_eq!(
        code(audit(kept.clone(), base.clone(), other.to_string()).await),
        Some(2)
    );
    // A kept checkpoint past the node's log: it shrank (4).
    let ahead = signed_by_node(&app, 99, [5; 32]);
    assert_eq!(
        code(audit(ahead, base.clone(), vkey.clone()).await),
        Some(4)
    );
    // A different root at a size the log had: rewritten (5), whether the
    // size is the current one or an earlier one.
    let split_now = signed_by_node(&app, 4, [6; 32]);
    assert_eq!(
        code(audit(split_now, base.clone(), vkey.clone()).await),
        Some(5)
    );
    let split_before = signed_by_node(&app, 2, [6; 32]);
    let out = audit(split_before, base.clone(), vkey.clone()).await;
    assert_eq!(code(out), Some(5));
    // Nobody answering: 1.
    let nobody = "http://127.0.0.1:9".to_owned();
    assert_eq!(code(audit(kept, nobody, vkey).await), Some(1));
    app.stop().await;
}

//! Witnesses over real HTTP: two on port 0 and a third that is down, the
//! node's checkpoints cosigned only when proved consistent, a split view
//! kept as evidence and refused, the state surviving a restart, and the
//! quorum policy of `chain verify-note`.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::Value;
use shucang::witness::Witness;
use shucang_verify::vkey::VerifierKey;

use crate::chain::{populate, signed_by_node};
use crate::harness::TestApp;
use crate::process::shucang;
use crate::support::assert_success;

/// A witness of the app's log served on port 0: its URL and its key.
async fn witness_of(app: &TestApp, dir: &std::path::Path, name: &str) -> (String, VerifierKey) {
    let log = node_vkey(app).await;
    let witness = Arc::new(Witness::open(dir, name, vec![log]).unwrap());
    let vkey = witness.vkey();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(shucang::witness::serve(
        listener,
        witness,
        std::future::pending(),
    ));
    (url, vkey)
}

async fn node_vkey(app: &TestApp) -> VerifierKey {
    let stats: Value = app
        .get("/api/v1/chain/stats", None)
        .await
        .json()
        .await
        .unwrap();
    VerifierKey::parse(stats["node_vkey"].as_str().unwrap()).unwrap()
}

/// The node's current checkpoint and, from `old`, its consistency proof
/// (base64 lines).
async fn checkpoint_from(app: &TestApp, old: u64) -> (String, Vec<String>) {
    let note = app.checkpoint_text().await;
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let mut proof = Vec::new();
    if old > 0 && old < size {
        let path = format!("/api/v1/chain/consistency?from={old}&to={size}");
        let answer: Value = app.get(&path, None).await.json().await.unwrap();
        for h in answer["proof"].as_array().unwrap() {
            proof.push(STANDARD.encode(hex::decode(h.as_str().unwrap()).unwrap()));
        }
    }
    (note, proof)
}

/// `POST /add-checkpoint`: the status and the body.
async fn add(url: &str, old: u64, proof: &[String], note: &str) -> (StatusCode, String) {
    let mut body = format!("old {old}\n");
    for line in proof {
        body.push_str(line);
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    let res = reqwest::Client::new()
        .post(format!("{url}/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn witnesses_cosign_only_what_is_consistent_and_keep_split_views() {
    let app = TestApp::spawn().await;
    populate(&app).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (w1, k1) = witness_of(&app, d1.path(), "w1.example.cn").await;
    let (w2, k2) = witness_of(&app, d2.path(), "w2.example.cn").await;
    let k3 = VerifierKey::cosigner("w3.example.cn", &[9; 32]);
    let down = "http://127.0.0.1:9";

    // First sight: from size 0, no proof. Two cosign; the third is down.
    let (note, _) = checkpoint_from(&app, 0).await;
    let mut cosigned = note.clone();
    for url in [&w1, &w2] {
        let (status, line) = add(url, 0, &[], &note).await;
        assert_eq!(status, StatusCode::OK, "{line}");
        cosigned.push_str(&line);
    }
    let third = reqwest::Client::new()
        .post(format!("{down}/add-checkpoint"))
        .send()
        .await;
    assert!(third.is_err(), "the third witness is down");

    // The policy: the log's signature and a quorum of cosignatures.
    let log = node_vkey(&app).await;
    let witnesses = [k1.clone(), k2.clone(), k3.clone()];
    let open = shucang_verify::vkey::open_witnessed;
    assert!(open(&cosigned, &log, &witnesses, 2).is_ok());
    let too_few = open(&cosigned, &log, &witnesses, 3).unwrap_err();
    assert!(
        too_few
            .to_string()
            .contains("2 witness cosignature(s) verify, 3 needed")
    );
    verify_note_cli(&cosigned, &log, &witnesses).await;

    // The log grows: `old` must be what the witness holds (409 says it),
    // and the proof must lead there.
    app.grow_chain(20, "witnessed").await;
    let (grown, proof) = checkpoint_from(&app, 3).await;
    assert_eq!(
        add(&w1, 0, &[], &grown).await,
        (StatusCode::CONFLICT, "3\n".into())
    );
    let wrong: Vec<String> = proof.iter().map(|_| STANDARD.encode([7u8; 32])).collect();
    assert_eq!(
        add(&w1, 3, &wrong, &grown).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(add(&w1, 3, &proof, &grown).await.0, StatusCode::OK);

    // A second tree of the size cosigned (signed by the log's key, as a
    // log showing different views would): refused, kept as evidence.
    let split = signed_by_node(&app, 4, [6; 32]);
    assert_eq!(
        add(&w1, 4, &[], &split).await,
        (StatusCode::CONFLICT, "4\n".into())
    );
    let evidence: Vec<_> = std::fs::read_dir(d1.path().join("evidence"))
        .unwrap()
        .collect();
    assert_eq!(evidence.len(), 1, "the split view is kept");
    let kept = std::fs::read_to_string(evidence[0].as_ref().unwrap().path()).unwrap();
    assert!(kept.contains(&grown[..grown.find("\n\n").unwrap()]) && kept.contains("BgYG"));

    // Other logs and malformed requests.
    let stranger = "other.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} other.example/log AAAAAAA=\n";
    assert_eq!(add(&w1, 0, &[], stranger).await.0, StatusCode::NOT_FOUND);
    let unsigned = grown.replacen("\n4\n", "\n5\n", 1);
    assert_eq!(add(&w1, 4, &[], &unsigned).await.0, StatusCode::FORBIDDEN);
    let huge = "x".repeat(70 * 1024);
    for bad in ["", "old x\n\n", "old 4\nnot base64\n\n"] {
        let res = reqwest::Client::new()
            .post(format!("{w1}/add-checkpoint"))
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let res = reqwest::Client::new()
        .post(format!("{w1}/add-checkpoint"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "the body is bounded"
    );

    // What it holds survives a restart: a fresh witness on the same
    // directory knows the size.
    let (w1_again, k1_again) = witness_of(&app, d1.path(), "w1.example.cn").await;
    assert_eq!(k1_again, k1, "the same key");
    assert_eq!(
        add(&w1_again, 0, &[], &grown).await,
        (StatusCode::CONFLICT, "4\n".into())
    );
    app.stop().await;
}

/// `chain verify-note --vkey LOG --witness … --quorum K`: 2 of the 3
/// configured witnesses cosigned, so a quorum of 2 passes and 3 fails.
async fn verify_note_cli(note: &str, log: &VerifierKey, witnesses: &[VerifierKey]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cosigned.note");
    std::fs::write(&file, note).unwrap();
    for (quorum, passes) in [("2", true), ("3", false)] {
        let mut cmd = shucang();
        cmd.args([
            "chain",
            "verify-note",
            "--vkey",
            &log.to_string(),
            "--quorum",
            quorum,
        ]);
        for w in witnesses {
            cmd.args(["--witness", &w.to_string()]);
        }
        let out = cmd.arg(&file).output().await.unwrap();
        if passes {
            assert_success(&out);
        } else {
            assert_eq!(out.status.code(), Some(1));
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(said.contains("3 needed"), "{said}");
        }
    }
}

/// The node sends its checkpoint to its configured witnesses (two up, one
/// down) and publishes the two cosignatures with it.
#[tokio::test]
async fn the_node_publishes_its_witnesses_cosignatures() {
    // The node's key exists before the node, so its witnesses can know it.
    let dir = tempfile::tempdir().unwrap();
    let secrets = shucang_config::Secrets::load_or_create(dir.path(), std::iter::empty()).unwrap();
    let node = shucang_chain::SigningKey::from_secret(
        shucang_verify::Suite::Ed25519Sha256,
        secrets.node.expose(),
    )
    .unwrap();
    let log = VerifierKey::new(
        shucang_verify::Suite::Ed25519Sha256,
        "shucang.local/chain",
        &node.public_key(),
    );
    let mut urls = Vec::new();
    let mut keys = Vec::new();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for (i, d) in dirs.iter().enumerate() {
        let w = Arc::new(
            Witness::open(d.path(), &format!("w{i}.example.cn"), vec![log.clone()]).unwrap(),
        );
        keys.push(w.vkey());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        tokio::spawn(shucang::witness::serve(listener, w, std::future::pending()));
    }
    let down = VerifierKey::cosigner("w2.example.cn", &[9; 32]);
    let settings: Vec<shucang_config::WitnessSetting> = urls
        .iter()
        .zip(&keys)
        .map(|(url, k)| (url.clone(), k.to_string()))
        .chain([("http://127.0.0.1:9".to_owned(), down.to_string())])
        .map(|(url, vkey)| shucang_config::WitnessSetting { url, vkey })
        .collect();
    let app = TestApp::spawn_in_configured(dir, |c| c.chain.witnesses = settings).await;
    populate(&app).await;
    let witnessing = app.witnessing.clone().expect("witnesses are configured");
    assert_eq!(witnessing.pass().await.unwrap(), 2, "two of three cosign");
    let published = app.checkpoint_text().await;
    let all = [keys[0].clone(), keys[1].clone(), down];
    assert!(
        shucang_verify::vkey::open_witnessed(&published, &log, &all, 2).is_ok(),
        "{published}"
    );
    // The log grows; the next pass proves consistency from where each stands.
    let again = witnessing.pass().await.unwrap();
    assert_eq!(again, 2, "cosigning the same checkpoint again is harmless");
    app.grow_chain(30, "after").await;
    assert_eq!(witnessing.pass().await.unwrap(), 2);
    let published = app.checkpoint_text().await;
    assert!(published.contains("\n4\n"), "{published}");
    assert!(shucang_verify::vkey::open_witnessed(&published, &log, &all, 2).is_ok());
    app.stop().await;
}

//! `shucang bench witness`: what witnessing costs per checkpoint. A fresh
//! chain commits `checkpoints` blocks of one mint each, one after another,
//! first alone and then with every checkpoint sent to two witnesses on
//! loopback (each checking the consistency proof, storing its state
//! durably and cosigning) before the next block; checkpoints per second of
//! both, and their ratio.

use std::sync::Arc;
use std::time::Instant;

use shucang_chain::{
    Address, Chain, ChainConfig, CollectionId, MintItem, Operation, SigningKey, Transaction,
};
use shucang_verify::Suite;
use shucang_verify::vkey::VerifierKey;

/// Checkpoints per second without and with two witnesses.
#[derive(Debug, Clone, Copy)]
pub struct WitnessBench {
    /// Blocks committed one after another, no witness.
    pub alone_per_s: f64,
    /// The same, each checkpoint cosigned by two witnesses before the next.
    pub witnessed_per_s: f64,
}

/// Runs both measurements in `dir` (a chain and two witness directories).
pub async fn run(dir: &std::path::Path, checkpoints: usize) -> anyhow::Result<WitnessBench> {
    let alone = rounds(&dir.join("alone"), checkpoints, 0).await?;
    let witnessed = rounds(&dir.join("witnessed"), checkpoints, 2).await?;
    Ok(WitnessBench {
        alone_per_s: alone,
        witnessed_per_s: witnessed,
    })
}

/// Checkpoints per second for a chain in `dir` with `witnesses` witnesses.
async fn rounds(
    dir: &std::path::Path,
    checkpoints: usize,
    witnesses: usize,
) -> anyhow::Result<f64> {
    let suite = Suite::Ed25519Sha256;
    let node = SigningKey::from_secret(suite, &[42; 32]).expect("a valid secret");
    let origin = "bench.shucang.local/witnessed";
    let config = ChainConfig {
        dir: dir.join("chain"),
        origin: origin.to_owned(),
        node_key: node.clone(),
        extra_operators: vec![],
        verify_threads: 1,
        clock: Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        }),
    };
    let chain = Arc::new(Chain::open(config)?.0);
    let log = VerifierKey::new(suite, origin, &node.public_key());
    let mut remotes = Vec::new();
    for i in 0..witnesses {
        let name = format!("w{i}.bench.local");
        let w = crate::witness::Witness::open(&dir.join(&name), &name, vec![log.clone()])?;
        let vkey = w.vkey();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        remotes.push((format!("http://{}", listener.local_addr()?), vkey));
        tokio::spawn(crate::witness::serve(
            listener,
            Arc::new(w),
            std::future::pending(),
        ));
    }
    let published = Arc::new(shucang_web::Cosigned::default());
    let witnessing = crate::witnessing::Witnessing::new(chain.clone(), remotes, published)?;
    let collection = CollectionId::parse("witnessed").expect("valid id");
    let owner = Address::of_public_key(suite, &node.public_key());
    let tx = |nonce: u64, operation| Transaction::signed_by(&node, nonce, operation);
    let create = crate::bench::bench_collection(&collection, "witness bench", checkpoints + 1);
    chain.submit(tx(0, create)).await?;
    let start = Instant::now();
    for i in 1..=checkpoints as u64 {
        let mint = Operation::Mint {
            collection: collection.clone(),
            items: vec![MintItem::edition(i, owner, [0; 32])],
        };
        chain.submit(tx(i, mint)).await?;
        if witnesses > 0 {
            let cosigned = witnessing.pass().await?;
            anyhow::ensure!(
                cosigned == witnesses,
                "a witness did not cosign checkpoint {i}"
            );
        }
    }
    let per_s = checkpoints as f64 / start.elapsed().as_secs_f64();
    chain.close();
    Ok(per_s)
}

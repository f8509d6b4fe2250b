//! `shucang bench chain` and `shucang chain load`: driving the embedded
//! chain with many signed transactions from concurrent clients.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use shucang_chain::{
    Address, Chain, ChainConfig, CollectionId, MintItem, NewCollection, Operation, Receipt,
    SignedTransaction, SigningKey, Transaction, verify_parallel,
};
use shucang_types::{Role, SystemClock};
use shucang_verify::Suite;

/// Keys that hold and pass on tokens in a benchmark.
const BENCH_USER_KEYS: usize = 1000;
/// Random proofs timed for `proof_us_p99`.
const BENCH_PROOF_SAMPLES: usize = 10_000;

/// What `shucang bench chain` does.
#[derive(Debug, Clone)]
pub struct ChainBenchOptions {
    /// Transactions to commit (half mints, half transfers).
    pub txs: usize,
    /// The crypto suite.
    pub suite: Suite,
    /// Concurrent submitting clients.
    pub clients: usize,
    /// Signature-checking threads (the committer's and the bound's).
    pub threads: usize,
    /// Where the chain is written (a fresh directory).
    pub dir: PathBuf,
    /// The operator key and chain name; `None` for the benchmark's own
    /// (a chain a server opens needs the server's node key and origin).
    pub operator: Option<(SigningKey, String)>,
}

/// The figures of one benchmark run.
#[derive(Debug, Clone)]
pub struct ChainBenchResult {
    /// Transactions committed.
    pub txs: usize,
    /// The suite.
    pub suite: Suite,
    /// Durable, verified, committed transactions per second.
    pub commit_tps: f64,
    /// Bare signature checks per second with the same threads.
    pub verify_bound_tps: f64,
    /// 99th percentile of submit-to-durable latency.
    pub p99_commit_latency_ms: f64,
    /// 99th percentile of inclusion-proof generation at the final size.
    pub proof_us_p99: f64,
    /// Segment bytes per committed transaction.
    pub bytes_per_tx: f64,
    /// Blocks written.
    pub blocks: u64,
}

impl ChainBenchResult {
    /// The result as one JSON object (the last line of the bench output).
    pub fn to_json(&self, clients: usize, threads: usize) -> String {
        serde_json::json!({
            "txs": self.txs,
            "suite": self.suite.name(),
            "commit_tps": round1(self.commit_tps),
            "verify_bound_tps": round1(self.verify_bound_tps),
            "ratio": (self.commit_tps / self.verify_bound_tps * 1000.0).round() / 1000.0,
            "p99_commit_latency_ms": round1(self.p99_commit_latency_ms),
            "proof_us_p99": round1(self.proof_us_p99),
            "bytes_per_tx": round1(self.bytes_per_tx),
            "blocks": self.blocks,
            "clients": clients,
            "threads": threads,
        })
        .to_string()
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn key(suite: Suite, n: u64) -> SigningKey {
    // Deterministic, distinct, valid keys: a counter in a fixed pattern
    // (valid SM2 scalars too: far below the group order, never zero).
    let mut secret = [0x5a_u8; 32];
    secret[0] = 0x11;
    secret[24..].copy_from_slice(&(n + 1).to_be_bytes());
    SigningKey::from_secret(suite, &secret).expect("bench keys are valid scalars")
}

fn sign_all(work: Vec<(SigningKey, Transaction)>, threads: usize) -> Vec<SignedTransaction> {
    let chunk = work.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|(k, t)| t.clone().sign(k)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signing does not panic"))
            .collect()
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Submits `txs` from `clients` concurrent tasks; returns each receipt and
/// its latency in milliseconds.
async fn submit_all(
    chain: &Arc<Chain>,
    txs: Vec<SignedTransaction>,
    clients: usize,
) -> anyhow::Result<Vec<(Receipt, f64)>> {
    let queue = Arc::new(std::sync::Mutex::new(
        txs.into_iter().rev().collect::<Vec<_>>(),
    ));
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let queue = queue.clone();
        let chain = chain.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let next = queue.lock().expect("queue lock").pop();
                let Some(tx) = next else { break };
                let start = Instant::now();
                let receipt = chain.submit(tx).await?;
                out.push((receipt, start.elapsed().as_secs_f64() * 1000.0));
            }
            Ok::<_, shucang_chain::SubmitError>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("client task")??);
    }
    Ok(all)
}

/// Runs the chain benchmark: pre-signs the transactions, commits them from
/// concurrent clients (mints, then transfers between many keys), measures
/// the bare verification rate with the same threads, and times proofs.
pub async fn run_chain_bench(options: &ChainBenchOptions) -> anyhow::Result<ChainBenchResult> {
    let suite = options.suite;
    let (node, origin) = match &options.operator {
        Some((node, origin)) => (node.clone(), origin.clone()),
        None => (
            key(suite, 1_000_000),
            "bench.shucang.local/chain".to_owned(),
        ),
    };
    let users: Vec<SigningKey> = (0..BENCH_USER_KEYS as u64).map(|n| key(suite, n)).collect();
    let addr = |k: &SigningKey| Address::of_public_key(suite, &k.public_key());
    let collection = CollectionId::parse("bench").expect("valid id");
    let mints = options.txs.div_ceil(2);
    let transfers = options.txs - mints;

    eprintln!("signing {} transactions ({})…", options.txs, suite.name());
    let mut work = Vec::with_capacity(options.txs);
    for i in 0..mints {
        let owner = addr(&users[i % users.len()]);
        let item = MintItem::edition(i as u64 + 1, owner, suite.hash(&(i as u64).to_be_bytes()));
        let op = Operation::Mint {
            collection: collection.clone(),
            items: vec![item],
        };
        work.push((node.clone(), op));
    }
    for i in 0..transfers {
        let from = &users[i % users.len()];
        let to = addr(&users[(i + 1) % users.len()]);
        let op = Operation::Transfer {
            collection: collection.clone(),
            token_id: i as u64 + 1,
            to,
        };
        work.push((from.clone(), op));
    }
    let work: Vec<(SigningKey, Transaction)> = work
        .into_iter()
        .enumerate()
        .map(|(n, (k, operation))| {
            let tx = Transaction {
                suite,
                nonce: n as u64,
                signer: k.public_key(),
                operation,
            };
            (k, tx)
        })
        .collect();
    let mut signed = sign_all(work, options.threads);
    let transfer_txs = signed.split_off(mints);
    let mint_txs = signed;

    // The bound: bare signature checks of a sample, same threads, same code.
    let sample_len = match suite {
        Suite::Ed25519Sha256 => 40_000,
        Suite::Sm2Sm3 => 8_000,
    }
    .min(options.txs.max(1));
    let sample: Vec<SignedTransaction> = mint_txs
        .iter()
        .chain(&transfer_txs)
        .take(sample_len)
        .cloned()
        .collect();
    let encoded: Vec<Vec<u8>> = sample.iter().map(SignedTransaction::encode).collect();
    let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
    let start = Instant::now();
    let ok = verify_parallel(&sample, &refs, options.threads);
    let verify_bound_tps = sample.len() as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(
        ok.iter().all(Option::is_some),
        "bench signatures must verify"
    );
    drop((sample, encoded));

    let config = ChainConfig {
        dir: options.dir.clone(),
        origin,
        node_key: node.clone(),
        extra_operators: vec![],
        verify_threads: options.threads,
        clock: Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        }),
    };
    let (chain, _) = Chain::open(config)?;
    let chain = Arc::new(chain);
    let create = Transaction::signed_by(
        &node,
        u64::MAX,
        bench_collection(&collection, "bench", mints),
    );
    chain.submit(create).await?;

    eprintln!("committing from {} clients…", options.clients);
    let start = Instant::now();
    let mut results = submit_all(&chain, mint_txs, options.clients).await?;
    results.extend(submit_all(&chain, transfer_txs, options.clients).await?);
    let elapsed = start.elapsed().as_secs_f64();
    let commit_tps = results.len() as f64 / elapsed;
    let mut latencies: Vec<f64> = results.iter().map(|(_, ms)| *ms).collect();
    latencies.sort_by(f64::total_cmp);

    // Proofs at the final size, for random committed transactions.
    let mut proof_us = Vec::with_capacity(BENCH_PROOF_SAMPLES);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..BENCH_PROOF_SAMPLES.min(results.len()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let receipt = &results[(x % results.len() as u64) as usize].0;
        let t = Instant::now();
        let proof = chain.proof(&receipt.tx_hash)?;
        proof_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(proof.is_some(), "a committed transaction has a proof");
    }
    proof_us.sort_by(f64::total_cmp);
    let stats = chain.stats()?;
    chain.close();
    let bytes = dir_bytes(&options.dir)?;
    Ok(ChainBenchResult {
        txs: results.len(),
        suite,
        commit_tps,
        verify_bound_tps,
        p99_commit_latency_ms: percentile(&latencies, 0.99),
        proof_us_p99: percentile(&proof_us, 0.99),
        bytes_per_tx: bytes as f64 / stats.tx_count.max(1) as f64,
        blocks: stats.height,
    })
}

fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("segment-") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// `shucang chain load`: mints `txs` tokens (one per transaction) into a new
/// collection from `clients` concurrent tasks and prints `ack <leaf> <hash>`
/// for each durable receipt, as it arrives. A smoke test for a node's
/// storage; the crash test kills it mid-way.
pub async fn run_load(
    chain: Arc<Chain>,
    node: &SigningKey,
    txs: usize,
    clients: usize,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let suite = node.suite();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let collection = CollectionId::parse(&format!("load-{nanos}")).expect("valid id");
    let owner = Address::of_public_key(suite, &node.public_key());
    let tx = |nonce: u64, operation| Transaction::signed_by(node, nonce, operation);
    chain
        .submit(tx(0, bench_collection(&collection, "load test", txs)))
        .await?;
    let all: Vec<SignedTransaction> = (1..=txs as u64)
        .map(|i| {
            tx(
                i,
                Operation::Mint {
                    collection: collection.clone(),
                    items: vec![MintItem::edition(i, owner, [0; 32])],
                },
            )
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(
        all.into_iter().rev().collect::<Vec<_>>(),
    ));
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (queue, chain, stdout) = (queue.clone(), chain.clone(), stdout.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue lock").pop();
                let Some(tx) = next else { break };
                let r = chain.submit(tx).await?;
                let mut out = stdout.lock().expect("stdout lock");
                let _ = writeln!(out, "ack {} {}", r.leaf, hex::encode(r.tx_hash));
                let _ = out.flush();
            }
            Ok::<(), shucang_chain::SubmitError>(())
        }));
    }
    for t in tasks {
        t.await.context("load task")??;
    }
    Ok(())
}

/// What `shucang bench purchases` measured in one round.
#[derive(Debug, Clone)]
pub struct PurchaseRound {
    /// Purchases answered 201.
    pub created: usize,
    /// Purchase requests per second.
    pub purchases_per_s: f64,
    /// Median purchase latency.
    pub p50_ms: f64,
    /// 99th percentile purchase latency.
    pub p99_ms: f64,
    /// `/healthz` requests per second with the same client and concurrency.
    pub healthz_per_s: f64,
}

/// `shucang bench purchases`: starts the real server in-process on a fresh
/// SQLite data directory, and sends `requests` purchases (one edition each,
/// unique idempotency keys) over HTTP on loopback from `clients` concurrent
/// connections, per round; the same client then measures `/healthz` as the
/// ceiling of the HTTP stack for comparison.
pub async fn run_purchase_bench(
    requests: usize,
    clients: usize,
    rounds: usize,
    dir: &Path,
) -> anyhow::Result<Vec<PurchaseRound>> {
    let mut config = shucang_config::Config::load(None, std::iter::empty())?;
    config.listen = "127.0.0.1:0".parse()?;
    config.data_dir = dir.to_owned();
    config.log = "warn".into();
    let secrets = shucang_config::Secrets::load_or_create(dir, std::iter::empty())?;
    let app = crate::Application::build(&config, &secrets, Arc::new(SystemClock)).await?;
    let base = format!("http://{}", app.local_addr());
    let (admin, work) = bench_work(&app, (requests * rounds) as u64).await?;
    // Enough buyers that none passes the per-account limit.
    let per_user = shucang_platform::drops::PER_USER_LIMIT_MAX as usize;
    let buyers = bench_buyers(&app, requests.div_ceil(per_user).max(clients.min(64))).await?;
    let drops = app.drops().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let load = Load {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()?,
        requests,
        clients,
    };
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let now = crate::now_ms();
        let drop = drops
            .create(
                Role::SystemAdmin,
                admin,
                shucang_platform::DropDraft {
                    work_id: work,
                    title: format!("bench round {round}"),
                    price_fen: 100,
                    supply: requests as u64,
                    starts_at: shucang_types::UnixMillis(now - 60_000),
                    ends_at: shucang_types::UnixMillis(now + 3_600_000),
                    per_user_limit: shucang_platform::drops::PER_USER_LIMIT_MAX,
                },
            )
            .await?;
        let url = format!("{base}/api/v1/drops/{}/orders", drop.id);
        let start = Instant::now();
        let answers = load.purchases(&url, round, &buyers).await?;
        let elapsed = start.elapsed().as_secs_f64();
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let mut lat: Vec<f64> = answers.iter().map(|(_, ms)| *ms).collect();
        lat.sort_by(f64::total_cmp);
        results.push(PurchaseRound {
            created,
            purchases_per_s: answers.len() as f64 / elapsed,
            p50_ms: percentile(&lat, 0.5),
            p99_ms: percentile(&lat, 0.99),
            healthz_per_s: load.healthz_per_s(&format!("{base}/healthz")).await?,
        });
    }
    let _ = stop.send(());
    server.await??;
    Ok(results)
}

/// The password of every account the purchase benchmark creates.
const BENCH_PASSWORD: &str = "Bench#2026pass";

/// Creates a reviewer and an administrator, and an approved work of
/// `editions`; returns the administrator's account and the work's id.
async fn bench_work(app: &crate::Application, editions: u64) -> anyhow::Result<(i64, i64)> {
    let accounts = &app.services().accounts;
    let staff = |phone: &str, role| shucang_platform::Registration {
        phone: shucang_types::Phone::parse(phone).expect("valid"),
        password: BENCH_PASSWORD.into(),
        role,
    };
    let reviewer = accounts
        .register(staff("13900009001", Role::Reviewer))
        .await?;
    let admin = accounts
        .register(staff("13900009002", Role::SystemAdmin))
        .await?;
    let draft = shucang_platform::WorkDraft {
        title: "bench".into(),
        description: String::new(),
        edition_size: editions,
        issuer: "bench".into(),
        copyright_evidence: "bench".into(),
        image: crate::demo::gradient_png(8, 8, 0.0),
    };
    let works = app.works();
    let work = works.submit(Role::SystemAdmin, admin, draft).await?;
    works
        .review(
            Role::Reviewer,
            reviewer,
            work.id,
            shucang_platform::Decision::Approve,
        )
        .await?;
    Ok((admin, work.id))
}

/// Registers `users` collectors with verified real names and logs each in;
/// returns their session tokens.
async fn bench_buyers(app: &crate::Application, users: usize) -> anyhow::Result<Vec<String>> {
    let (accounts, identity) = (&app.services().accounts, &app.services().identity);
    let mut tokens = Vec::with_capacity(users);
    for n in 0..users {
        let phone = shucang_types::Phone::parse(&format!("134{n:08}"))?;
        let account = accounts
            .register(shucang_platform::Registration {
                phone: phone.clone(),
                password: BENCH_PASSWORD.into(),
                role: Role::Collector,
            })
            .await?;
        let first17 = format!(
            "3101011988{:02}{:02}{:03}",
            1 + n % 12,
            1 + n % 28,
            n % 1000
        );
        let id = format!(
            "{first17}{}",
            shucang_types::id_check_character(first17.as_bytes()) as char
        );
        identity
            .verify(
                account,
                shucang_platform::RealName::parse("压测").expect("valid"),
                shucang_types::IdNumber::parse(&id, identity.today())?,
                shucang_platform::Consent {
                    given: true,
                    ip: "bench".into(),
                },
            )
            .await?;
        tokens.push(
            accounts
                .login(phone.as_str(), BENCH_PASSWORD)
                .await?
                .token
                .expose()
                .to_owned(),
        );
    }
    Ok(tokens)
}

/// `requests` HTTP requests from `clients` concurrent tasks sharing one
/// client (and its connection pool).
struct Load {
    client: reqwest::Client,
    requests: usize,
    clients: usize,
}

impl Load {
    /// Sends the round's purchases (one edition each, unique idempotency
    /// keys, buyers in turn); returns each answer's status and latency in ms.
    async fn purchases(
        &self,
        url: &str,
        round: usize,
        tokens: &[String],
    ) -> anyhow::Result<Vec<(u16, f64)>> {
        let (url, tokens): (Arc<str>, Arc<[String]>) = (url.into(), tokens.into());
        self.run(move |client, i| {
            let (url, tokens) = (url.clone(), tokens.clone());
            async move {
                let t = Instant::now();
                let res = client
                    .post(&*url)
                    .bearer_auth(&tokens[i % tokens.len()])
                    .header("Idempotency-Key", format!("bench-{round}-{i}"))
                    .json(&serde_json::json!({"quantity": 1}))
                    .send()
                    .await?;
                Ok((res.status().as_u16(), t.elapsed().as_secs_f64() * 1000.0))
            }
        })
        .await
    }

    /// The reference: the same client, concurrency and count on `/healthz`;
    /// returns requests per second.
    async fn healthz_per_s(&self, health: &str) -> anyhow::Result<f64> {
        let start = Instant::now();
        let health: Arc<str> = health.into();
        self.run(move |client, _| {
            let health = health.clone();
            async move {
                client.get(&*health).send().await?.bytes().await?;
                Ok(())
            }
        })
        .await?;
        Ok(self.requests as f64 / start.elapsed().as_secs_f64())
    }

    /// Runs request `i` (`send(client, i)`) for every `i` below
    /// `requests`, from `clients` tasks that take the next one as they
    /// finish; returns the answers (in no particular order).
    async fn run<T, F, Fut>(&self, send: F) -> anyhow::Result<Vec<T>>
    where
        F: Fn(reqwest::Client, usize) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Result<T, reqwest::Error>> + Send,
        T: Send + 'static,
    {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::with_capacity(self.clients);
        for _ in 0..self.clients {
            let (client, next, send) = (self.client.clone(), next.clone(), send.clone());
            let requests = self.requests;
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    out.push(send(client.clone(), i).await?);
                }
                Ok::<_, reqwest::Error>(out)
            }));
        }
        let mut answers = Vec::with_capacity(self.requests);
        for t in tasks {
            answers.extend(t.await??);
        }
        Ok(answers)
    }
}

/// The collection a benchmark mints into: room for `tokens` (at least one).
pub(crate) fn bench_collection(collection: &CollectionId, name: &str, tokens: usize) -> Operation {
    Operation::CreateCollection(NewCollection {
        collection: collection.clone(),
        name: name.into(),
        symbol: "BENCH".into(),
        supply_cap: tokens.max(1) as u64,
        issuer: name.into(),
        metadata_uri: "bench://".into(),
        metadata_hash: [0; 32],
    })
}

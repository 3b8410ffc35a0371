//! Protocol test helpers: a step-by-step driver of the sessions `common::session` builds,
//! which lets a test intercept and tamper with messages, and an independent model of which
//! drop-out patterns must succeed (and with which included set).

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use rand_chacha::ChaCha20Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::config::Config;
use secagg::protocol::graph::Graph;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::{Output, Server};
use secagg::ring::{Ring, RingVec};
use secagg::sim::{self, DropSchedule};
use secagg::{ClientId, Round};

use super::session::Spec;

/// A session driven step by step: clients' pending messages sit in `outbox` until
/// [`Session::server_round`] delivers them.
pub struct Session {
    pub config: Arc<Config>,
    pub inputs: Vec<Vec<RingVec>>,
    pub clients: Vec<Client>,
    pub rngs: Vec<ChaCha20Rng>,
    pub server: Server,
    pub outbox: Vec<Option<ClientMessage>>,
    pub keys: Option<Vec<SigningKey>>,
    /// Every message each client produced, in order.
    pub sent: Vec<Vec<ClientMessage>>,
}

impl Session {
    pub fn new(spec: &Spec, seed: u8) -> Session {
        let (config, keys) = spec.build();
        let mut rng = seeded_rng([seed; 32]);
        let inputs = sim::random_inputs(&config, &mut rng);
        let mut rngs: Vec<ChaCha20Rng> = (0..spec.n)
            .map(|i| client_rng(seed, i as ClientId))
            .collect();
        let mut clients = Vec::new();
        let mut outbox = Vec::new();
        let mut sent = Vec::new();
        for i in 0..spec.n {
            let key = keys.as_ref().map(|k| k[i].clone());
            let (c, m) = Client::new(
                Arc::clone(&config),
                i as ClientId,
                inputs[i].clone(),
                key,
                &mut rngs[i],
            )
            .unwrap();
            clients.push(c);
            sent.push(vec![m.clone()]);
            outbox.push(Some(m));
        }
        Session {
            server: Server::new(Arc::clone(&config)),
            config,
            inputs,
            clients,
            rngs,
            outbox,
            keys,
            sent,
        }
    }

    /// Delivers every pending message except those of `silent`, then closes the round.
    pub fn server_round(&mut self, silent: &[ClientId]) -> Vec<(ClientId, ServerMessage)> {
        for (i, m) in self.outbox.iter_mut().enumerate() {
            if let Some(m) = m.take() {
                if !silent.contains(&(i as ClientId)) {
                    self.server.receive(i as ClientId, m).unwrap();
                }
            }
        }
        self.server.close_round().unwrap()
    }

    /// Hands the server's messages to their clients; their answers go to the outbox.
    pub fn client_round(&mut self, msgs: &[(ClientId, ServerMessage)]) {
        for (id, m) in msgs {
            let i = *id as usize;
            let out = self.clients[i]
                .handle(m.clone(), &mut self.rngs[i])
                .unwrap();
            self.sent[i].push(out.clone());
            self.outbox[i] = Some(out);
        }
    }

    /// Runs honestly (nobody drops) until the server has produced the messages that
    /// open `round`; returns them undelivered.
    pub fn until(&mut self, round: Round) -> Vec<(ClientId, ServerMessage)> {
        let mut msgs = self.server_round(&[]);
        while msgs.first().map(|(_, m)| m.round()) != Some(round) {
            self.client_round(&msgs);
            msgs = self.server_round(&[]);
        }
        msgs
    }

    /// Delivers `msgs` and runs honestly to the end; returns the output.
    pub fn finish(&mut self, msgs: &[(ClientId, ServerMessage)]) -> Output {
        let mut msgs = msgs.to_vec();
        while !msgs.is_empty() {
            self.client_round(&msgs);
            msgs = self.server_round(&[]);
        }
        self.server.output().unwrap().clone()
    }

    /// Delivers the pending client messages and runs honestly to the end.
    pub fn complete(&mut self) -> Output {
        let msgs = self.server_round(&[]);
        self.finish(&msgs)
    }

    pub fn expected(&self, included: &[ClientId]) -> Vec<RingVec> {
        independent_sum(&self.config, &self.inputs, included)
    }

    pub fn rng(&mut self, id: ClientId) -> &mut ChaCha20Rng {
        &mut self.rngs[id as usize]
    }

    /// Feeds `msg` to client `id` directly.
    pub fn handle(&mut self, id: ClientId, msg: ServerMessage) -> secagg::Result<ClientMessage> {
        let i = id as usize;
        self.clients[i].handle(msg, &mut self.rngs[i])
    }

    /// The message client `id` sent in `round`.
    pub fn sent_in(&self, id: ClientId, round: Round) -> ClientMessage {
        self.sent[id as usize]
            .iter()
            .find(|m| m.round() == round)
            .unwrap()
            .clone()
    }

    /// Delivers `msgs` to the clients, except those of `silent`, then closes the next
    /// server round with the same clients silent.
    pub fn step(
        &mut self,
        msgs: &[(ClientId, ServerMessage)],
        silent: &[ClientId],
    ) -> Vec<(ClientId, ServerMessage)> {
        let live: Vec<_> = msgs
            .iter()
            .filter(|(i, _)| !silent.contains(i))
            .cloned()
            .collect();
        self.client_round(&live);
        self.server_round(silent)
    }
}

/// The generator [`Session::new`] gives client `id` of a session made with `seed`.
pub fn client_rng(seed: u8, id: ClientId) -> ChaCha20Rng {
    let mut s = [seed ^ 0x80; 32];
    s[..4].copy_from_slice(&id.to_be_bytes());
    seeded_rng(s)
}

/// The message addressed to `id`.
pub fn msg_for(msgs: &[(ClientId, ServerMessage)], id: ClientId) -> ServerMessage {
    msgs.iter().find(|(i, _)| *i == id).unwrap().1.clone()
}

/// Sum of the inputs of `included`, word by word in u64 arithmetic reduced at the end
/// (independent of the ring code's vector addition).
pub fn independent_sum(
    config: &Config,
    inputs: &[Vec<RingVec>],
    included: &[ClientId],
) -> Vec<RingVec> {
    config
        .vectors()
        .iter()
        .enumerate()
        .map(|(j, spec)| {
            let mut acc = vec![0u128; spec.dim];
            for &u in included {
                for (a, w) in acc.iter_mut().zip(inputs[u as usize][j].to_u64s()) {
                    *a += u128::from(w);
                }
            }
            let modulus: u128 = match spec.ring {
                Ring::Pow2 { bits } => 1u128 << bits,
                Ring::Modulus { m } => u128::from(m),
            };
            let words: Vec<u64> = acc.iter().map(|a| (a % modulus) as u64).collect();
            RingVec::from_u64s(&spec.ring, &words)
        })
        .collect()
}

// ---- an independent model of the documented abort rules ----------------------------

fn nbrs(graph: &Graph, u: usize) -> Vec<usize> {
    graph
        .neighbors(u as ClientId)
        .iter()
        .map(|&v| v as usize)
        .collect()
}

/// Removes, until none is left, any member with fewer than `t` member neighbors.
fn t_core(graph: &Graph, t: usize, mut alive: Vec<bool>) -> Vec<bool> {
    loop {
        let drop: Vec<usize> = (0..alive.len())
            .filter(|&u| alive[u] && nbrs(graph, u).iter().filter(|&&v| alive[v]).count() < t)
            .collect();
        if drop.is_empty() {
            return alive;
        }
        for u in drop {
            alive[u] = false;
        }
    }
}

/// The included set the documented rules predict for `schedule`, or `None` for an
/// abort.
pub fn predicted_outcome(config: &Config, schedule: &DropSchedule) -> Option<Vec<ClientId>> {
    let graph = config.graph();
    let t = config.threshold();
    let n = config.n();
    let answers = |prev: &[bool], r: Round| -> Vec<bool> {
        (0..n)
            .map(|u| prev[u] && !schedule.is_silent(u as ClientId, r))
            .collect()
    };
    let all = vec![true; n];
    let s1 = t_core(graph, t, answers(&all, Round::AdvertiseKeys));
    if !s1.contains(&true) {
        return None;
    }
    let s2 = t_core(graph, t, answers(&s1, Round::ShareKeys));
    if !s2.contains(&true) {
        return None;
    }
    let u3 = answers(&s2, Round::MaskedInputCollection);
    if !u3.contains(&true) {
        return None;
    }
    let feasible = |holders: &[bool]| {
        (0..n).all(|u| {
            let needed = u3[u] || (s2[u] && nbrs(graph, u).iter().any(|&w| u3[w]));
            !needed || nbrs(graph, u).iter().filter(|&&w| holders[w]).count() >= t
        })
    };
    if !feasible(&u3) {
        return None;
    }
    let mut holders = u3.clone();
    if config.is_malicious() {
        holders = answers(&u3, Round::ConsistencyCheck);
        if !feasible(&holders) {
            return None;
        }
    }
    let u5 = answers(&holders, Round::Unmasking);
    if !feasible(&u5) {
        return None;
    }
    Some((0..n).filter(|&u| u3[u]).map(|u| u as ClientId).collect())
}

/// Runs `schedule` in the simulator and checks the outcome against the model and the
/// sum against the independent plaintext sum. Returns whether the session succeeded.
pub fn check_schedule(
    spec: &Spec,
    config: &Arc<Config>,
    keys: &Option<Vec<SigningKey>>,
    schedule: &DropSchedule,
    seed: u8,
) -> bool {
    let mut rng = seeded_rng([seed; 32]);
    let inputs = sim::random_inputs(config, &mut rng);
    let predicted = predicted_outcome(config, schedule);
    let result = sim::run(
        Arc::clone(config),
        inputs.clone(),
        keys.clone(),
        schedule,
        [seed; 32],
    );
    match (result, predicted) {
        (Ok(report), Some(included)) => {
            assert_eq!(report.output.included, included, "{spec:?} {schedule:?}");
            assert_eq!(
                report.output.sums,
                independent_sum(config, &inputs, &included),
                "{spec:?} {schedule:?}"
            );
            assert!(report.is_correct());
            assert!(
                report.client_aborts.is_empty(),
                "{:?}",
                report.client_aborts
            );
            true
        }
        (Err(abort), None) => {
            use secagg::{Error, ThresholdError};
            assert!(
                matches!(
                    abort.error,
                    Error::Threshold(ThresholdError::TooFewSurvivors { .. })
                        | Error::Threshold(ThresholdError::CannotReconstruct { .. })
                ),
                "{spec:?} {schedule:?}: {abort:?}"
            );
            false
        }
        (r, p) => panic!(
            "{spec:?} {schedule:?}: got {:?}, predicted {p:?}",
            r.map(|r| r.output.included)
        ),
    }
}

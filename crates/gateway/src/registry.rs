//! The chargers connected to this gateway, and the command queue of each connection.

use crate::link::{ChargerLink, CommandFailure};
use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerCommand, CommandOutcome};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, oneshot};

pub type Answer = oneshot::Sender<Result<CommandOutcome, CommandFailure>>;

/// A command waiting for its turn on a connection.
pub struct QueuedCommand {
    pub command: ChargerCommand,
    pub answer: Answer,
}

/// What the registry and a connection's task share. Nothing is allocated per connection until a
/// command is queued, which keeps idle connections small.
pub struct ConnectionShared {
    generation: u64,
    queue: Mutex<VecDeque<QueuedCommand>>,
    /// Woken when a command is queued.
    pub queued: Notify,
    /// Woken when a newer connection of the same station replaces this one.
    pub replaced: Notify,
}

impl ConnectionShared {
    pub fn next_command(&self) -> Option<QueuedCommand> {
        self.queue.lock().expect("queue lock").pop_front()
    }

    /// Answers every queued command with `failure`; called when the connection ends.
    pub fn fail_queued(&self, failure: CommandFailure) {
        let drained: Vec<QueuedCommand> = self.queue.lock().expect("queue lock").drain(..).collect();
        for queued in drained {
            let _ = queued.answer.send(Err(failure.clone()));
        }
    }
}

#[derive(Default)]
pub struct Registry {
    connections: Mutex<HashMap<StationId, Arc<ConnectionShared>>>,
    generations: AtomicU64,
}

impl Registry {
    /// Registers a new connection for `station`; an existing one is told to close at once.
    pub fn connect(&self, station: &StationId) -> Arc<ConnectionShared> {
        let shared = Arc::new(ConnectionShared {
            generation: self.generations.fetch_add(1, Ordering::Relaxed),
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            replaced: Notify::new(),
        });
        let previous = self.connections.lock().expect("registry lock").insert(station.clone(), Arc::clone(&shared));
        if let Some(previous) = previous {
            previous.replaced.notify_one();
        }
        metrics::gauge!("chargemesh_chargers_connected").set(self.connected_count() as f64);
        shared
    }

    /// Removes the connection unless a newer one already took its place.
    pub fn disconnect(&self, station: &StationId, shared: &ConnectionShared) {
        let mut connections = self.connections.lock().expect("registry lock");
        if connections.get(station).is_some_and(|c| c.generation == shared.generation) {
            connections.remove(station);
        }
        let count = connections.len();
        drop(connections);
        metrics::gauge!("chargemesh_chargers_connected").set(count as f64);
    }
}

impl ChargerLink for Registry {
    fn dispatch(
        &self,
        station: &StationId,
        command: ChargerCommand,
    ) -> Option<oneshot::Receiver<Result<CommandOutcome, CommandFailure>>> {
        let shared = self.connections.lock().expect("registry lock").get(station).cloned()?;
        let (answer, receiver) = oneshot::channel();
        shared.queue.lock().expect("queue lock").push_back(QueuedCommand { command, answer });
        shared.queued.notify_one();
        Some(receiver)
    }

    fn is_connected(&self, station: &StationId) -> bool {
        self.connections.lock().expect("registry lock").contains_key(station)
    }

    fn connected_count(&self) -> usize {
        self.connections.lock().expect("registry lock").len()
    }
}

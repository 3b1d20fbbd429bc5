//! What changed, for the loops that pass it on (the OCPI publisher, the ledger feed). A use case that
//! changes what they show notes it here, which wakes them; a round then reads only what was noted.
//! The loops still compare everything now and then, so a change noted nowhere is late, never lost.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What was noted since a follower last took it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Chargers whose published form changed: connector status, connection, boot, commissioning.
    pub stations: BTreeSet<String>,
    /// Sites whose own details changed.
    pub sites: BTreeSet<i64>,
    /// Tariffs with a new version.
    pub tariffs: BTreeSet<String>,
    /// A session's energy, state or priced CDR.
    pub sessions: bool,
    /// Something many objects show changed (an operator's name, a tariff assignment, a charger moved
    /// or deleted): read everything again.
    pub everything: bool,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        *self == Changed::default()
    }
}

/// One change, as a use case notes it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    Station(&'a str),
    Site(i64),
    Tariff(&'a str),
    Session,
    Everything,
}

/// One loop's share of the changes: what was noted for it and the signal that wakes it.
#[derive(Default)]
pub struct Follower {
    changed: Mutex<Changed>,
    wake: Notify,
}

impl Follower {
    /// Waits until something is noted (returns at once when something already was).
    pub async fn noted(&self) {
        self.wake.notified().await;
    }

    /// Takes what was noted, leaving nothing.
    pub fn take(&self) -> Changed {
        std::mem::take(&mut *self.changed.lock().expect("changes lock"))
    }

    fn note(&self, change: Change<'_>) {
        let mut changed = self.changed.lock().expect("changes lock");
        match change {
            Change::Station(station) => {
                if !changed.stations.contains(station) {
                    changed.stations.insert(station.to_owned());
                }
            }
            Change::Site(id) => {
                changed.sites.insert(id);
            }
            Change::Tariff(id) => {
                if !changed.tariffs.contains(id) {
                    changed.tariffs.insert(id.to_owned());
                }
            }
            Change::Session => changed.sessions = true,
            Change::Everything => changed.everything = true,
        }
        drop(changed);
        // One stored permit: a loop busy with a round runs once more, however many notes came.
        self.wake.notify_one();
    }
}

/// Every loop that follows the changes.
#[derive(Default)]
pub(crate) struct Changes {
    followers: Mutex<Vec<Arc<Follower>>>,
}

impl Changes {
    pub(crate) fn follow(&self) -> Arc<Follower> {
        let follower = Arc::new(Follower::default());
        self.followers.lock().expect("changes lock").push(Arc::clone(&follower));
        follower
    }

    pub(crate) fn note(&self, change: Change<'_>) {
        let mut followers = self.followers.lock().expect("changes lock");
        // A follower only this list holds has gone (a console's live overview closed).
        followers.retain(|follower| Arc::strong_count(follower) > 1);
        for follower in followers.iter() {
            follower.note(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_follower_takes_what_was_noted_since_it_last_looked_and_is_woken_once() {
        let changes = Changes::default();
        let (publisher, feed) = (changes.follow(), changes.follow());
        changes.note(Change::Station("CP1"));
        changes.note(Change::Station("CP1"));
        changes.note(Change::Tariff("T1"));
        changes.note(Change::Session);
        // Noted before anyone waited: the stored permit wakes the wait at once.
        publisher.noted().await;
        let taken = publisher.take();
        assert_eq!(taken.stations.into_iter().collect::<Vec<_>>(), ["CP1"]);
        assert_eq!(taken.tariffs.into_iter().collect::<Vec<_>>(), ["T1"]);
        assert!(taken.sessions && !taken.everything);
        assert!(publisher.take().is_empty(), "taking leaves nothing");
        // The other follower keeps its own copy.
        assert!(!feed.take().is_empty());
        changes.note(Change::Everything);
        assert!(publisher.take().everything);
    }

    #[test]
    fn a_follower_dropped_by_its_loop_is_forgotten() {
        let changes = Changes::default();
        let kept = changes.follow();
        drop(changes.follow());
        changes.note(Change::Session);
        assert_eq!(changes.followers.lock().unwrap().len(), 1);
        assert!(kept.take().sessions);
    }
}

//! The chargers a driver marked in the app to find again first: any member's, kept at the driver's
//! own member (nothing about them reaches the charger's member).

use super::{Error, Operations, Outcome};
use chargemesh_store::favourites::{self, Favourite};

/// How many chargers one driver may mark.
pub const MOST: i64 = 100;

impl Operations {
    /// Driver `driver_id`'s favourites, the newest first.
    pub async fn favourites(&self, driver_id: i64) -> Outcome<Vec<Favourite>> {
        Ok(self.store.read(move |conn| Box::pin(favourites::of_driver(conn, driver_id))).await?)
    }

    /// Marks member `operator`'s charger `evse_uid` for driver `driver_id`; marking it again changes
    /// nothing. Refused beyond [`MOST`].
    pub async fn add_favourite(&self, driver_id: i64, operator: String, evse_uid: String) -> Outcome<()> {
        let now = self.now();
        let added = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if favourites::count(&mut *tx, driver_id).await? >= MOST {
                        let marked = favourites::of_driver(&mut *tx, driver_id).await?;
                        if !marked.iter().any(|f| f.operator == operator && f.evse_uid == evse_uid) {
                            return Ok(false);
                        }
                    }
                    favourites::add(tx, driver_id, &operator, &evse_uid, now).await?;
                    Ok(true)
                })
            })
            .await?;
        if added { Ok(()) } else { Err(Error::conflict(format!("at most {MOST} favourites: remove one first"))) }
    }

    /// Unmarks a charger for driver `driver_id`; unmarking one not marked changes nothing.
    pub async fn remove_favourite(&self, driver_id: i64, operator: String, evse_uid: String) -> Outcome<()> {
        self.store
            .write(move |tx| Box::pin(async move { favourites::remove(tx, driver_id, &operator, &evse_uid).await }))
            .await?;
        Ok(())
    }
}

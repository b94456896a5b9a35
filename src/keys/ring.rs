//! The key pairs in memory, each with its signature cache, loaded from the database when
//! first needed. Keys are added and made current on any instance: the current key is read
//! from the database each time it is asked for (one indexed row), and a key id this
//! instance has not seen yet is loaded then.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::push::vapid::{VapidKeys, VapidSubject};
use crate::store::Store;

pub struct KeyRing {
    subject: VapidSubject,
    keys: RwLock<HashMap<i64, Arc<VapidKeys>>>,
}

/// A key pair with its id.
#[derive(Clone)]
pub struct SigningKey {
    pub id: i64,
    pub keys: Arc<VapidKeys>,
}

impl KeyRing {
    /// Makes sure the database has its keys (a first start generates one; an upgraded
    /// database gets the public half of the key it had) and loads the current one.
    pub async fn open(store: &Store, subject: VapidSubject) -> Result<Self, String> {
        let first = super::import::KeyPair::generate();
        store.ensure_first_key(&first.private_key, &first.public_key).await.map_err(|e| e.to_string())?;
        for row in store.keys_without_public_key().await.map_err(|e| e.to_string())? {
            let pair = super::import::KeyPair::from_stored(&row.private_key)
                .map_err(|e| format!("VAPID key {} is unusable: {e}", row.id))?;
            store.set_public_key(row.id, &pair.public_key).await.map_err(|e| e.to_string())?;
        }
        let ring = Self { subject, keys: RwLock::default() };
        ring.current(store).await?;
        Ok(ring)
    }

    /// The key new subscriptions use.
    pub async fn current(&self, store: &Store) -> Result<SigningKey, String> {
        let row = store
            .current_vapid_key()
            .await
            .map_err(|e| format!("reading the current VAPID key: {e}"))?
            .ok_or("the database has no current VAPID key")?;
        let keys = self.loaded(row.id, &row.private_key)?;
        Ok(SigningKey { id: row.id, keys })
    }

    /// Key `id`, to sign for the subscriptions made with it (retired keys too: a campaign
    /// queued before the retirement may still hold their deliveries).
    pub async fn key(&self, store: &Store, id: i64) -> Result<Arc<VapidKeys>, String> {
        if let Some(keys) = self.keys.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(keys.clone());
        }
        let row = store
            .vapid_key(id)
            .await
            .map_err(|e| format!("reading VAPID key {id}: {e}"))?
            .ok_or_else(|| format!("VAPID key {id} does not exist"))?;
        self.loaded(id, &row.private_key)
    }

    fn loaded(&self, id: i64, private_key: &str) -> Result<Arc<VapidKeys>, String> {
        if let Some(keys) = self.keys.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(keys.clone());
        }
        let keys = Arc::new(VapidKeys::from_private_key(private_key, self.subject.clone())?);
        Ok(self.keys.write().unwrap_or_else(|p| p.into_inner()).entry(id).or_insert(keys).clone())
    }
}

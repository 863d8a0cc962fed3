//! A value remembered for a while: discovery results that rarely change (which
//! buckets are the environment's, the dimensions of its metrics) are not looked up
//! again on every refresh. `topology()` always reads fresh and refills them.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct TtlCache<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> TtlCache<T> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            slot: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Option<T> {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn clear(&self) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn put(&self, value: T) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire() {
        let c = TtlCache::new(Duration::from_millis(30));
        assert_eq!(c.get(), None::<u8>);
        c.put(7);
        assert_eq!(c.get(), Some(7));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(), None);
    }
}

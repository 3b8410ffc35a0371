//! The two collections the server's phases are made of: a set of client ids that a
//! transition builds and nothing edits afterwards ([`IdSet`]), and the answers a phase
//! collects, one per client at most ([`Answers`]). A phase starts with empty
//! [`Answers`] and ends by being consumed: nothing is ever cleared by hand.

use crate::ids::ClientId;

/// A set of ids below `n`: one bit per client, built once.
#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct IdSet {
    words: Vec<u64>,
    len: usize,
}

impl IdSet {
    /// The set of `ids` among `0..n` (ids at or above `n` are left out).
    pub(super) fn new(n: usize, ids: impl IntoIterator<Item = ClientId>) -> Self {
        let mut words = vec![0u64; n.div_ceil(64)];
        let mut len = 0;
        for id in ids {
            let i = id as usize;
            if i >= n {
                continue;
            }
            if let Some(w) = words.get_mut(i / 64) {
                let bit = 1u64 << (i % 64);
                if *w & bit == 0 {
                    *w |= bit;
                    len += 1;
                }
            }
        }
        Self { words, len }
    }

    /// Every id in `0..n`.
    pub(super) fn all(n: usize) -> Self {
        Self::new(n, (0..n).filter_map(|i| ClientId::try_from(i).ok()))
    }

    pub(super) fn contains(&self, id: ClientId) -> bool {
        let i = id as usize;
        self.words
            .get(i / 64)
            .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every member of `self` is in `other`.
    pub(super) fn is_subset(&self, other: &IdSet) -> bool {
        self.words
            .iter()
            .enumerate()
            .all(|(j, &w)| w & !other.words.get(j).copied().unwrap_or(0) == 0)
    }

    /// The members, ascending.
    pub(super) fn iter(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(j, &w)| {
                let mut rest = w;
                core::iter::from_fn(move || {
                    if rest == 0 {
                        return None;
                    }
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    Some(j * 64 + bit)
                })
            })
            .filter_map(|i| ClientId::try_from(i).ok())
    }

    /// The members, ascending.
    pub(super) fn to_vec(&self) -> Vec<ClientId> {
        let mut v = Vec::with_capacity(self.len);
        v.extend(self.iter());
        v
    }
}

impl core::fmt::Debug for IdSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// What a phase collected: at most one answer per client id below `n`.
#[derive(Clone)]
pub(super) struct Answers<T> {
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> Answers<T> {
    /// No answers yet, from clients `0..n`.
    pub(super) fn new(n: usize) -> Self {
        Self {
            slots: core::iter::repeat_with(|| None).take(n).collect(),
            len: 0,
        }
    }

    /// Records `id`'s answer (ids at or above `n` are ignored; the server checks them
    /// first). A second answer replaces the first; the server refuses one before.
    pub(super) fn insert(&mut self, id: ClientId, answer: T) {
        if let Some(slot) = self.slots.get_mut(id as usize) {
            if slot.replace(answer).is_none() {
                self.len += 1;
            }
        }
    }

    pub(super) fn get(&self, id: ClientId) -> Option<&T> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    pub(super) fn get_mut(&mut self, id: ClientId) -> Option<&mut T> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    pub(super) fn contains(&self, id: ClientId) -> bool {
        self.get(id).is_some()
    }

    /// Who answered.
    pub(super) fn ids(&self) -> IdSet {
        IdSet::new(self.slots.len(), self.iter().map(|(id, _)| id))
    }

    /// The answers, by ascending id.
    pub(super) fn iter(&self) -> impl Iterator<Item = (ClientId, &T)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, slot)| {
            let id = ClientId::try_from(i).ok()?;
            slot.as_ref().map(|a| (id, a))
        })
    }

    /// Only the answers of the members of `keep`.
    pub(super) fn restricted_to(self, keep: &IdSet) -> Self {
        let mut len = 0;
        let slots = self
            .slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                let kept = ClientId::try_from(i).is_ok_and(|id| keep.contains(id));
                let slot = slot.filter(|_| kept);
                len += usize::from(slot.is_some());
                slot
            })
            .collect();
        Self { slots, len }
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Answers<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_sets() {
        let s = IdSet::new(130, [129, 3, 64, 3, 200]);
        assert_eq!(s.to_vec(), vec![3, 64, 129]);
        assert_eq!(s.len(), 3);
        assert!(s.contains(64) && !s.contains(65) && !s.contains(200));
        assert!(IdSet::new(130, [3]).is_subset(&s));
        assert!(!IdSet::new(130, [4]).is_subset(&s));
        assert!(IdSet::new(130, []).is_empty());
        assert_eq!(IdSet::all(3).to_vec(), vec![0, 1, 2]);
        assert_eq!(format!("{s:?}"), "{3, 64, 129}");
    }

    #[test]
    fn answers() {
        let mut a = Answers::new(5);
        a.insert(4, "x");
        a.insert(1, "y");
        a.insert(7, "ignored");
        assert_eq!(a.ids().to_vec(), vec![1, 4]);
        assert_eq!(a.get(4), Some(&"x"));
        let a = a.restricted_to(&IdSet::new(5, [4]));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![(4, &"x")]);
        assert!(a.ids().len() == 1 && !a.contains(1));
    }
}

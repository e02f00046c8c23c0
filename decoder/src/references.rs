//! The reference lists of clause 8.7: per layer, its most recent tensors of one kind (levels of
//! quantized tensors, or values of native ones), most recent first.

use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct ReferenceLists<T> {
    lists: Vec<VecDeque<Vec<T>>>,
}

impl<T> Default for ReferenceLists<T> {
    fn default() -> Self {
        ReferenceLists { lists: Vec::new() }
    }
}

impl<T> ReferenceLists<T> {
    /// The list of layer `layer`, most recent first (empty before its first tensor).
    pub fn of(&self, layer: usize) -> Vec<&[T]> {
        self.lists
            .get(layer)
            .map_or_else(Vec::new, |l| l.iter().map(Vec::as_slice).collect())
    }

    /// Puts `tensor` first in the list of layer `layer`, which then keeps at most `max`
    /// tensors (MaxRefFrames, Annex A.2).
    pub fn push(&mut self, layer: usize, tensor: Vec<T>, max: usize) {
        if self.lists.len() <= layer {
            self.lists.resize_with(layer + 1, VecDeque::new);
        }
        let list = &mut self.lists[layer];
        list.push_front(tensor);
        list.truncate(max);
    }

    /// Empties every list (a random-access point).
    pub fn clear(&mut self) {
        self.lists.iter_mut().for_each(VecDeque::clear);
    }
}

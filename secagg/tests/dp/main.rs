//! Distributed differential privacy: the exact samplers against their exact
//! distributions, the accountant against published numbers and limits.

mod accountant;
mod pipeline;
mod samplers;

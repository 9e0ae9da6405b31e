//! The engine handle (in progress).
pub struct Engine;
pub struct EngineConfig;
pub enum EngineEvent {}

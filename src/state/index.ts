// The state folder: atomic state.json, the event journal, the lock and operator control requests.
export { stateDir, stateDirFlag, STATE_FILE, EVENTS_FILE, PREV_STATE_FILE, PREV_EVENTS_FILE, LOCK_FILE, CONTROL_DIR } from './files.js';
export { StateStore, type StateStoreOptions } from './store.js';
export { parseJournal, type ParsedJournal } from './journal.js';
export {
  acquireLock,
  describeOwner,
  isOwnerAlive,
  lockPath,
  LockHeldError,
  LockUnwritableError,
  readLock,
  type LockEnv,
  type LockHandle,
  type LockInfo,
} from './lock.js';
export {
  CONTROL_ACTIONS,
  controlDir,
  controlTargetCheck,
  takeControlRequests,
  watchControl,
  writeControl,
  type ControlAction,
  type ControlRequest,
  type ControlWatch,
  type WatchControlOptions,
} from './control.js';
export { lockGoneText, markConfirmed, markRecovered, orphanDied, orphanMessage, orphanTraffic, rolloutStanding, type RolloutStanding } from './orphan.js';
export { clearHookRecord, hookRecorder, readHookInFlight, readRecoveryHook, stopOrphanHook, type HookInFlight, type RecoveryHook } from './hook-record.js';
export { describeHookInFlight, describeRecovery, greenAfterDeath } from './hook-words.js';
export {
  lostRecord,
  lostRecordAdvice,
  lostRecordText,
  unrecordedAdvice,
  unrecordedEnding,
  unrecordedRollout,
  unrecordedText,
  type LostRecord,
  type UnrecordedRollout,
} from './unrecorded.js';

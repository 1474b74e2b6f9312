"""The audience stage: who may be mailed. Import the submodules; this package re-exports nothing."""

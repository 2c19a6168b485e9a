"""Workflows: act on what Tenure knows, automatically, exactly once (docs/workflows.md).

A workflow is a trigger, conditions, a goal, exit conditions and a list of steps
(``definition``); a person who meets the trigger is **enrolled** by an event-pipeline
reaction in the appending transaction; each pending step is a row with its due time on
the workspace clock, advanced by the job runner.
"""

-- Every decision explains itself (issue: rules that match the law): a store check's alert keeps
-- the parameter values it was decided with (Alert.parameters), as a case's OPENED fact does; the
-- console explains each (unit, meaning, source) from the catalog. Alerts stored before: none.
ALTER TABLE alerts ADD COLUMN parameters Nested(name String, value String);

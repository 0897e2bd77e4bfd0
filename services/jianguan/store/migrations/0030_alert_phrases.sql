-- A store check's alert keeps what it found in phrases (jianguan.v1.Alert.said, JSON
-- [[template, [[name, value], …]], …]), so the console says it in the viewer's language; the
-- English `summary` stays as raised. Alerts raised before have none ('').
ALTER TABLE alerts ADD COLUMN said String;

"""gosd's MQTT side: the broker nodes reach (embedded or external), topic names, who may use which topic."""

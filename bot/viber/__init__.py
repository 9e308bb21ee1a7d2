"""The Viber side: the REST API client, the webhook, and Viber customers as a channel."""

"""The Telegram side: customers' private chats and the operators' forum group."""

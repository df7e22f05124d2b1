"""Messages to citizens on WeChat: the official account's customer-service API as an outbox
transport ("wechat"), with its access token fetched and cached."""

"""The admin panel for information staff (客户信息员) and managers."""

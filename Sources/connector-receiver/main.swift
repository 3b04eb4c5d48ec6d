print("connector-receiver")

print("rapport-bench: not built yet")

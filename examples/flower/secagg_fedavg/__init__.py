"""FedAvg over Flower with the model updates summed by secagg (SecAgg+)."""

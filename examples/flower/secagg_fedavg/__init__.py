"""A Flower app (Message API) whose training aggregate is computed by secagg."""

"""The AWS control plane: the Redshift cluster (or Serverless workgroup) and what it needs."""

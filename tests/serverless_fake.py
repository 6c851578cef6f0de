"""Redshift Serverless's control plane in memory, for the tests: moto has no redshift-serverless.

Every request is checked against botocore's own model of the service (the parameter names and
types a real call would send), and answers have the shapes AWS documents. Only the control plane
is stood in for: IAM, EC2, Secrets Manager and Redshift stay moto's, over HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

REGION = "us-west-2"
ACCOUNT = "123456789012"


class FakeServerless:
    def __init__(self) -> None:
        # a client never sent anywhere: only its model of the service is used
        self.model = boto3.session.Session(region_name=REGION).client(
            "redshift-serverless", endpoint_url="http://127.0.0.1:9").meta.service_model
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.workgroups: dict[str, dict[str, Any]] = {}
        self.passwords: dict[str, str] = {}
        self.calls: list[str] = []

    def _check(self, operation: str, params: dict[str, Any]) -> None:
        self.calls.append(operation)
        validate_parameters(params, self.model.operation_model(operation).input_shape)

    @staticmethod
    def _missing(operation: str, what: str) -> Any:
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": f"{what} not found"}}, operation)

    def _advance(self, table: dict[str, dict[str, Any]], name: str, operation: str, what: str) -> dict[str, Any]:
        """Each look makes a resource one step older: CREATING -> AVAILABLE; DELETING -> gone."""
        found = table.get(name)
        if found is None:
            return self._missing(operation, what)
        if found["status"] == "DELETING":
            del table[name]
            return self._missing(operation, what)
        answer = dict(found)
        if found["status"] in ("CREATING", "MODIFYING"):
            found["status"] = "AVAILABLE"
        return answer

    def get_namespace(self, **kw: Any) -> dict[str, Any]:
        self._check("GetNamespace", kw)
        return {"namespace": self._advance(self.namespaces, kw["namespaceName"], "GetNamespace", "namespace")}

    def create_namespace(self, **kw: Any) -> dict[str, Any]:
        self._check("CreateNamespace", kw)
        name = kw["namespaceName"]
        self.passwords[name] = kw["adminUserPassword"]
        self.namespaces[name] = {
            "namespaceName": name, "namespaceArn": f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT}:namespace/{name}",
            "dbName": kw.get("dbName", "dev"), "adminUsername": kw.get("adminUsername"),
            "iamRoles": list(kw.get("iamRoles", [])), "defaultIamRoleArn": kw.get("defaultIamRoleArn"),
            "status": "AVAILABLE", "creationDate": dt.datetime.now(dt.timezone.utc),
        }
        return {"namespace": dict(self.namespaces[name])}

    def update_namespace(self, **kw: Any) -> dict[str, Any]:
        self._check("UpdateNamespace", kw)
        found = self.namespaces.get(kw["namespaceName"]) or self._missing("UpdateNamespace", "namespace")
        found.update({k: v for k, v in kw.items() if k in ("iamRoles", "defaultIamRoleArn")}, status="MODIFYING")
        return {"namespace": dict(found)}

    def delete_namespace(self, **kw: Any) -> dict[str, Any]:
        self._check("DeleteNamespace", kw)
        found = self.namespaces.get(kw["namespaceName"]) or self._missing("DeleteNamespace", "namespace")
        if any(w["namespaceName"] == kw["namespaceName"] for w in self.workgroups.values()):
            raise ClientError({"Error": {"Code": "ConflictException", "Message": "namespace has a workgroup"}},
                              "DeleteNamespace")
        found["status"] = "DELETING"
        return {"namespace": dict(found)}

    def get_workgroup(self, **kw: Any) -> dict[str, Any]:
        self._check("GetWorkgroup", kw)
        return {"workgroup": self._advance(self.workgroups, kw["workgroupName"], "GetWorkgroup", "workgroup")}

    def create_workgroup(self, **kw: Any) -> dict[str, Any]:
        self._check("CreateWorkgroup", kw)
        name = kw["workgroupName"]
        if kw["namespaceName"] not in self.namespaces:
            return self._missing("CreateWorkgroup", "namespace")
        self.workgroups[name] = {
            "workgroupName": name, "namespaceName": kw["namespaceName"], "baseCapacity": kw.get("baseCapacity", 128),
            "securityGroupIds": list(kw.get("securityGroupIds", [])), "publiclyAccessible": kw.get("publiclyAccessible"),
            "status": "CREATING", "port": kw.get("port", 5439),
            "endpoint": {"address": f"{name}.{ACCOUNT}.{REGION}.redshift-serverless.amazonaws.com",
                         "port": kw.get("port", 5439)},
        }
        return {"workgroup": dict(self.workgroups[name])}

    def update_workgroup(self, **kw: Any) -> dict[str, Any]:
        self._check("UpdateWorkgroup", kw)
        found = self.workgroups.get(kw["workgroupName"]) or self._missing("UpdateWorkgroup", "workgroup")
        found.update({k: v for k, v in kw.items() if k == "securityGroupIds"}, status="MODIFYING")
        return {"workgroup": dict(found)}

    def delete_workgroup(self, **kw: Any) -> dict[str, Any]:
        self._check("DeleteWorkgroup", kw)
        found = self.workgroups.get(kw["workgroupName"]) or self._missing("DeleteWorkgroup", "workgroup")
        found["status"] = "DELETING"
        return {"workgroup": dict(found)}

    def get_credentials(self, **kw: Any) -> dict[str, Any]:
        self._check("GetCredentials", kw)
        if kw.get("workgroupName") not in self.workgroups:
            return self._missing("GetCredentials", "workgroup")
        return {"dbUser": "IAM:sparkify-tester", "dbPassword": "temporary-Passw0rd", "expiration":
                dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=kw.get("durationSeconds", 900))}


class Session:
    """A boto3 session on moto whose redshift-serverless client is `fake`."""

    def __init__(self, fake: FakeServerless) -> None:
        self.fake, self.session = fake, boto3.session.Session(region_name=REGION)

    def client(self, name: str, **kwargs: Any) -> Any:
        return self.fake if name == "redshift-serverless" else self.session.client(name, **kwargs)

"""deploy/k8s in production shape, checked offline: RabbitMQ as a three-node RabbitmqCluster
(operator), PostgreSQL as a three-instance CloudNativePG Cluster with a database per process,
anti-affinity and disruption budgets everywhere, and the platform's Secret pointing at them
(every RabbitMQ node listed for failover, the PostgreSQL primary's service)."""
import sys

import pytest

from tests.test_deploy_manifests import K8S, PROCESSES, _of_kind, load_yaml

INFRA = K8S / "infra"
sys.path.insert(0, str(K8S.parents[1] / "deploy" / "rabbitmq"))


@pytest.fixture(scope="module")
def infra():
    kustomization = load_yaml(INFRA / "kustomization.yaml")[0]
    objects = []
    for resource in kustomization["resources"]:
        objects += load_yaml(INFRA / resource)
    return kustomization, objects


@pytest.fixture(scope="module")
def platform():
    kustomization = load_yaml(K8S / "kustomization.yaml")[0]
    return [obj for resource in kustomization["resources"] for obj in load_yaml(K8S / resource)]


def test_infra_is_its_own_kustomization_in_its_own_namespace(infra):
    kustomization, objects = infra
    assert set(kustomization["resources"]) == {p.name for p in INFRA.glob("*.yaml")} - {
        "kustomization.yaml"}
    assert kustomization["namespace"] == "liudong-infra"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "liudong-infra", obj["metadata"]["name"]


def test_rabbitmq_is_a_three_node_cluster_one_per_machine_with_a_budget(infra):
    _, objects = infra
    (rabbit,) = _of_kind(objects, "RabbitmqCluster").values()
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    spec = rabbit["spec"]
    assert spec["replicas"] == 3
    config = spec["rabbitmq"]["additionalConfig"]
    assert "default_queue_type = quorum" in config and "quorum_cluster_size = 3" in config
    assert "cluster_partition_handling = pause_minority" in config
    (term,) = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    # the operator labels its pods app.kubernetes.io/name=<cluster name>
    pod_labels = {"app.kubernetes.io/name": rabbit["metadata"]["name"]}
    assert term["labelSelector"]["matchLabels"].items() <= pod_labels.items()
    (budget,) = [b for b in _of_kind(objects, "PodDisruptionBudget").values()
                 if b["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()]
    assert budget["spec"]["maxUnavailable"] == 1  # two of three keep every queue's majority


def test_postgres_is_replicated_with_a_role_and_database_per_process(infra):
    _, objects = infra
    (cluster,) = _of_kind(objects, "Cluster").values()
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert spec["instances"] >= 3 and spec["minSyncReplicas"] >= 1
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    databases = {d["spec"]["name"]: d["spec"] for d in _of_kind(objects, "Database").values()}
    secrets = _of_kind(objects, "Secret")
    assert set(roles) == set(databases) == set(PROCESSES)
    for process in PROCESSES:
        assert databases[process] == {"cluster": {"name": cluster["metadata"]["name"]},
                                      "name": process, "owner": process}
        secret = secrets[roles[process]["passwordSecret"]["name"]]
        assert secret["stringData"]["username"] == process
        assert "CHANGE-ME" in secret["stringData"]["password"]


def test_platform_secret_lists_every_rabbitmq_node_and_the_postgres_primary(infra, platform):
    _, objects = infra
    (rabbit,) = _of_kind(objects, "RabbitmqCluster").values()
    (cluster,) = _of_kind(objects, "Cluster").values()
    (secret,) = _of_kind(platform, "Secret").values()
    values = secret["stringData"]
    name = rabbit["metadata"]["name"]
    addresses = values["AMQP_URI"].split(";")
    assert len(addresses) == rabbit["spec"]["replicas"]
    for n, address in enumerate(addresses):
        assert address.startswith("pyamqp://")
        assert f"@{name}-server-{n}.{name}-nodes.liudong-infra.svc:5672/" in address
    import rpc_ttl_policy
    assert rpc_ttl_policy.vhost_of(values["AMQP_URI"]) == "/"
    primary = f"@{cluster['metadata']['name']}-rw.liudong-infra.svc:5432/"
    for process in PROCESSES:
        url = values[f"{process.upper()}_DATABASE_URL"]
        assert primary in url and url.endswith(f"/{process}")


def test_every_process_runs_twice_on_different_machines_with_a_budget(platform):
    deployments = _of_kind(platform, "Deployment")
    budgets = list(_of_kind(platform, "PodDisruptionBudget").values())
    assert len(deployments) == len(PROCESSES)
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        pod = deployment["spec"]["template"]["spec"]
        (preferred,) = pod["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"]
        term = preferred["podAffinityTerm"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"].items() <= labels.items(), name
        assert [b for b in budgets
                if b["spec"]["selector"]["matchLabels"].items() <= labels.items()], name

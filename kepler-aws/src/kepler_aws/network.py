"""Where the tasks run and how they are reached: VPC, subnets, security groups, the load
balancer of the environment, and a free listener port on it.

Configured values win (``aws.vpc_id``, ``aws.subnets``, ``aws.security_groups``); otherwise the
account's default VPC and its subnets are used, with the ``kepler-tasks-<env>`` security group
``kepler aws provision`` made. The load balancer is ``aws.load_balancer_name`` (made by
provision too). In a dry run nothing is read: ``<placeholders>`` stand for what would be.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clients import Aws
from .errors import AwsConfigError

PROVISION_HINT = "Run 'kepler aws provision' (add --env for another environment) first."


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnets: list[str]
    security_groups: list[str]
    lb_arn: str
    lb_dns: str


def task_group_name(env: str) -> str:
    return f"kepler-tasks-{env}"


def lb_group_name(env: str) -> str:
    return f"kepler-lb-{env}"


def default_vpc(aws: Aws) -> str:
    if aws.settings.vpc_id:
        return aws.settings.vpc_id
    answer = aws.call("ec2", "describe_vpcs", Filters=[{"Name": "isDefault", "Values": ["true"]}],
                      doing="looking for the default VPC")
    if answer is None:
        return "<the default VPC>"
    if not answer["Vpcs"]:
        raise AwsConfigError(f"Region {aws.region} has no default VPC.",
                             hint="Set aws.vpc_id, aws.subnets and aws.security_groups.")
    return str(answer["Vpcs"][0]["VpcId"])


def subnets(aws: Aws, vpc_id: str) -> list[str]:
    if aws.settings.subnets:
        return list(aws.settings.subnets)
    answer = aws.call("ec2", "describe_subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
                      doing=f"listing the subnets of {vpc_id}")
    if answer is None:
        return ["<the VPC's subnets>"]
    found = sorted(s["SubnetId"] for s in answer["Subnets"])
    if not found:
        raise AwsConfigError(f"VPC {vpc_id} has no subnets.", hint="Set aws.subnets.")
    return found


def security_group(aws: Aws, name: str, vpc_id: str) -> str | None:
    """The ID of security group ``name`` in the VPC (None: missing; a placeholder in a dry
    run)."""
    answer = aws.call("ec2", "describe_security_groups",
                      Filters=[{"Name": "group-name", "Values": [name]},
                               {"Name": "vpc-id", "Values": [vpc_id]}],
                      doing=f"looking up security group {name}")
    if answer is None:
        return f"<security group {name}>"
    groups = answer["SecurityGroups"]
    return str(groups[0]["GroupId"]) if groups else None


def load_balancer(aws: Aws) -> tuple[str, str] | None:
    """(ARN, DNS name) of the environment's load balancer; None when missing."""
    name = aws.settings.lb_name(aws.env)

    def missing(exc: BaseException) -> Exception | None:
        from .errors import error_code

        return _Missing() if error_code(exc) == "LoadBalancerNotFound" else None

    try:
        answer = aws.call("elbv2", "describe_load_balancers", Names=[name],
                          doing=f"looking up load balancer {name}", guard=missing)
    except _Missing:
        return None
    if answer is None:
        return f"<arn of load balancer {name}>", f"<dns name of {name}>"
    lb = answer["LoadBalancers"][0]
    return str(lb["LoadBalancerArn"]), str(lb["DNSName"])


class _Missing(Exception):
    pass


def resolve(aws: Aws) -> Network:
    """The network of a deployment; what provision makes must exist."""
    vpc_id = default_vpc(aws)
    found = subnets(aws, vpc_id)
    groups = list(aws.settings.security_groups)
    if not groups:
        group = security_group(aws, task_group_name(aws.env), vpc_id)
        if group is None:
            raise AwsConfigError(f"Security group {task_group_name(aws.env)} does not exist in "
                                 f"{vpc_id}.", hint=PROVISION_HINT + " Or set "
                                 "aws.security_groups.")
        groups = [group]
    lb = load_balancer(aws)
    if lb is None:
        raise AwsConfigError(f"Load balancer {aws.settings.lb_name(aws.env)} does not exist in "
                             f"{aws.region}.", hint=PROVISION_HINT)
    return Network(vpc_id, found, groups, lb[0], lb[1])


def free_port(aws: Aws, lb_arn: str) -> int:
    """The first port from ``aws.first_listener_port`` with no listener on the load balancer."""
    first = aws.settings.first_listener_port
    answer = aws.call("elbv2", "describe_listeners", LoadBalancerArn=lb_arn,
                      doing="listing the load balancer's listeners")
    if answer is None:
        return first
    used = {int(listener["Port"]) for listener in answer["Listeners"]}
    for port in range(first, first + aws.settings.listener_ports):
        if port not in used:
            return port
    from .errors import AwsLimitError

    raise AwsLimitError(f"All {aws.settings.listener_ports} listener ports of load balancer "
                        f"{aws.settings.lb_name(aws.env)} are in use.",
                        hint="Delete deployments you no longer need, or raise "
                        "aws.listener_ports and run 'kepler aws provision' again.")

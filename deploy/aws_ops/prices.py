"""List prices (US$ per hour) used by ``status``; not read from AWS, not from a bill.

us-east-1 list prices of late 2025, as terraform/README.md's cost table states them (the AWS
Price List API cannot be reached from where this was written): check your region's prices on
https://aws.amazon.com/fargate/pricing/ and the RDS, ELB and ElastiCache pricing pages.
"""

from __future__ import annotations

PRICE_SOURCE = "us-east-1 list prices, late 2025 (terraform/README.md, Costs)"

FARGATE_VCPU_HOUR = 0.0405  # x86; ARM64 is about 20% less
FARGATE_GB_HOUR = 0.0044
FARGATE_SPOT_SHARE = 0.3  # Fargate Spot bills about 30% of on-demand (varies)
PUBLIC_IPV4_HOUR = 0.005
ALB_HOUR = 0.0225  # plus LCUs, which grow with the load
INTERFACE_ENDPOINT_ZONE_HOUR = 0.01
RDS_INSTANCE_HOUR = {
    "db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129, "db.m7g.large": 0.168, "db.m7g.xlarge": 0.337,
}
RDS_GP3_GB_MONTH = 0.115
CACHE_NODE_HOUR = {"cache.t4g.micro": 0.016, "cache.t4g.small": 0.032,
                   "cache.t4g.medium": 0.065}
HOURS_PER_MONTH = 730


def fargate_task_hour(cpu_units: int, memory_mib: int, spot: bool = False) -> float:
    """One Fargate task's list price per hour (cpu in units of 1/1024 vCPU, memory in MiB)."""
    price = cpu_units / 1024 * FARGATE_VCPU_HOUR + memory_mib / 1024 * FARGATE_GB_HOUR
    return price * (FARGATE_SPOT_SHARE if spot else 1.0)

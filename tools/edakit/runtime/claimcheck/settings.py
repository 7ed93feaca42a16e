"""The claim-check settings of a spec (its `claim_check` block), so publishers, consumers and the store modules'
tfvars agree: which channels offload, above what size, and whether subscribers delete what they processed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edakit.brokers import contract
from edakit.runtime.claimcheck.limits import MESSAGE_LIMIT_BYTES, default_threshold
from edakit.runtime.claimcheck.publisher import OffloadPolicy
from edakit.runtime.settings import SettingsError
from edakit.spec.model import Spec


@dataclass(frozen=True)
class ClaimCheckSettings:
    store: str  # s3 | azure-blob | gcs: which PayloadStore to build
    name: str  # the bucket or storage account (the store module's input)
    policies: Mapping[str, OffloadPolicy]  # by the channel's name on the broker (Channel.resource_name)
    deleting_topics: frozenset[str]  # topics whose subscribers delete payloads after processing

    def deletes(self, topic: str) -> bool:
        return topic in self.deleting_topics


def claim_check_settings(spec: Spec) -> ClaimCheckSettings:
    """The settings of `spec` (loaded for the environment the service runs in); SettingsError, naming the key, for
    a block the runtime cannot follow."""
    block = spec.claim_check
    if block is None:
        raise SettingsError(f"{spec.file}: no claim_check block; add one (store, channels) to offload payloads")
    where = f"{spec.location('claim_check')} claim_check"
    names = block.channels if block.channels is not None else tuple(spec.channels)
    unknown = [n for n in names if n not in spec.channels]
    if unknown:
        raise SettingsError(f"{where}.channels: no channel {', '.join(map(repr, unknown))}; the spec has "
                            f"{', '.join(sorted(spec.channels)) or 'none'}")
    policies, deleting = {}, set()
    for name in names:
        channel = spec.channels[name]
        limit = MESSAGE_LIMIT_BYTES.get(channel.broker)
        threshold = block.threshold_bytes or default_threshold(channel.broker)
        if limit is not None and threshold >= limit:
            raise SettingsError(f"{where}.threshold_bytes: {threshold} is not below the {limit}-byte message limit "
                                f"of {channel.broker} (channel {name!r}): a payload under it would be refused")
        found = contract(spec, name)
        if found is not None and found.budget is not None and found.most_attributes() + 1 > found.budget:
            raise SettingsError(
                f"{where}.channels: channel {name!r} may carry {found.most_attributes()} attributes, and an offloaded "
                f"message one more (its size); the budget is {found.budget} on {channel.broker} (edakit.brokers): "
                f"declare fewer attributes for it")
        if block.delete_after_processing:
            subscribers = sorted(s.name for s in spec.subscribers_of(name))
            if len(subscribers) > 1:
                raise SettingsError(
                    f"{where}.delete_after_processing: channel {name!r} fans out to {', '.join(subscribers)}, which "
                    f"all read the same object; the first to finish would delete it for the others. Leave deletion "
                    f"to the store's expiry (payload_expiration_days), or keep the channel to one subscriber")
            deleting.add(channel.resource_name)
        policies[channel.resource_name] = OffloadPolicy(threshold, always=block.always_offload)
    return ClaimCheckSettings(block.store, block.name, policies, frozenset(deleting))

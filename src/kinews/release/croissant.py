"""croissant.json: the release described in Croissant 1.1, the metadata format ML tools read.

Every file of the release is a `FileObject` with its sha256; each config is a `RecordSet` read
from the Parquet files of its folder (a `FileSet`: every shard of every split). Label ids are
integers whose names live in two enumeration RecordSets (`labels` for spans, `bio_tags` for BIO
tags) that the label fields reference — the Hub's generated Croissant loses ClassLabel names;
this one keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from datasets import ClassLabel, Features, List, Value

from kinews.dataset import Dataset
from kinews.release.datasheet import AnnotationFacts
from kinews.release.splits import SPLITS
from kinews.scheme import Scheme

_TYPES = {"string": "sc:Text", "int32": "sc:Integer", "int64": "sc:Integer", "float64": "sc:Float"}
_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def render_croissant(
    *,
    dataset: Dataset,
    version: str,
    date: str,
    license: str,
    citation: str,
    scheme: Scheme,
    configs: Mapping[str, Features],
    present: Mapping[str, list[str]],
    files: Mapping[str, str],
    sharded: Collection[str] = (),
    annotation: AnnotationFacts,
    guidelines_version: str | None,
) -> str:
    """croissant.json for a release: `files` maps each release-relative path to its sha256;
    `present` lists the splits each config has files for, `sharded` the configs with a split
    in several files."""
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": path,
            "name": path,
            "contentUrl": path,
            "encodingFormat": _encoding(path),
            "sha256": digest,
        }
        for path, digest in sorted(files.items())
    ]
    record_sets = [
        _enumeration("labels", "Entity labels of spans (ClassLabel ids).", scheme.label_names),
        _enumeration("bio_tags", "BIO tags of tokens (ClassLabel ids).", scheme.bio_names),
        _enumeration("splits", "The splits of the release.", list(SPLITS), data_type="cr:Split"),
    ]
    for config, features in configs.items():
        if not present[config]:
            continue
        file_set = f"{config}-parquet"
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": file_set,
                "name": file_set,
                "description": f"Parquet files of the {config} config, "
                + ("one or more per split." if config in sharded else "one per split."),
                "encodingFormat": "application/x-parquet",
                "includes": f"data/{config}/*.parquet",
            }
        )
        fields = [
            {
                "@type": "cr:Field",
                "@id": f"{config}/split",
                "name": "split",
                "description": "The split the row belongs to.",
                "dataType": "sc:Text",
                "source": {
                    "fileSet": {"@id": file_set},
                    "extract": {"fileProperty": "fullpath"},
                    # mlcroissant applies the transform again to its own result: both must match.
                    "transform": {
                        "regex": f"^(?:.*data/{config}/)?(\\w+?)(?:-\\d+-of-\\d+\\.parquet)?$"
                    },
                },
                "references": {"field": {"@id": "splits/name"}},
            }
        ]
        fields += [
            _field(config, name, feature, file_set, [name]) for name, feature in features.items()
        ]
        record_sets.append(
            {
                "@type": "cr:RecordSet",
                "@id": config,
                "name": config,
                "description": f"The {config} config.",
                "field": fields,
            }
        )
    people = [{"@type": "sc:Organization", "name": name} for name in dataset.maintainers]
    metadata = {
        "@context": _CONTEXT,
        "@type": "sc:Dataset",
        "name": dataset.name,
        "alternateName": dataset.pretty_name,
        "description": dataset.summary,
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "citeAs": citation,
        "creator": people,
        "publisher": people,
        **({"url": url} if (url := dataset.homepage or dataset.repository) else {}),
        "license": license,
        "version": version,
        "datePublished": date,
        "inLanguage": dataset.language,
        "keywords": ["named-entity-recognition", "token-classification", dataset.language],
        **_responsible_ai(dataset, annotation, guidelines_version),
        "distribution": distribution,
        "recordSet": record_sets,
    }
    return json.dumps(metadata, ensure_ascii=False, indent=1) + "\n"


def _responsible_ai(
    dataset: Dataset, annotation: AnnotationFacts, guidelines_version: str | None
) -> dict[str, Any]:
    """The Croissant RAI fields the declaration and the records answer."""
    version = f" (version {guidelines_version})" if guidelines_version else ""
    fields: dict[str, Any] = {
        "rai:dataCollection": dataset.selection,
        "rai:dataCollectionType": ["Secondary Data Analysis"],
        "rai:dataPreprocessingProtocol": [
            "Texts are kept as received, after removing a byte order mark, turning CRLF/CR into "
            "LF and applying Unicode NFC; what the source did to a text is in its `notes`."
        ],
        "rai:dataAnnotationProtocol": (
            f"Spans marked by hand following GUIDELINES.md{version}; "
            f"{dataset.annotators_adjudication}"
        ),
        "rai:dataAnnotationPlatform": list(annotation.tools) or ["none recorded"],
        "rai:annotationsPerItem": str(dataset.annotators_per_document),
        "rai:annotatorDemographics": [dataset.annotators_who],
        "rai:dataUseCases": list(dataset.uses_intended),
        "rai:dataLimitations": list(dataset.limitations),
        "rai:dataReleaseMaintenancePlan": (
            "Versioned releases; a document keeps its split; corrections come as new versions."
        ),
    }
    if dataset.bias:
        fields["rai:dataBiases"] = [dataset.bias]
    return fields


def _encoding(path: str) -> str:
    for suffix, kind in ((".parquet", "application/x-parquet"), (".md", "text/markdown")):
        if path.endswith(suffix):
            return kind
    return "image/png" if path.endswith(".png") else "text/plain"


def _enumeration(
    name: str, description: str, names: list[str], data_type: str = "sc:Enumeration"
) -> dict[str, Any]:
    data: list[dict[str, int | str]]
    if data_type == "cr:Split":
        fields = [("name", "sc:Text")]
        data = [{f"{name}/name": value} for value in names]
        key = f"{name}/name"
    else:
        fields = [("id", "sc:Integer"), ("name", "sc:Text")]
        data = [{f"{name}/id": i, f"{name}/name": value} for i, value in enumerate(names)]
        key = f"{name}/id"
    return {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": description,
        "dataType": data_type,
        "key": {"@id": key},
        "field": [
            {"@type": "cr:Field", "@id": f"{name}/{field}", "name": field, "dataType": kind}
            for field, kind in fields
        ],
        "data": data,
    }


def _field(config: str, name: str, feature: Any, file_set: str, path: list[str]) -> dict[str, Any]:
    field_id = "/".join([config, *path])
    result: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
    if len(path) == 1:
        result["source"] = {"fileSet": {"@id": file_set}, "extract": {"column": name}}
    else:
        result["source"] = {
            "fileSet": {"@id": file_set},
            "extract": {"column": path[0]},
            "transform": {"jsonPath": ".".join(path[1:])},
        }
    if isinstance(feature, List):
        result["isArray"] = True
        feature = feature.feature
    if isinstance(feature, dict):
        result["subField"] = [
            _field(config, sub, inner, file_set, [*path, sub]) for sub, inner in feature.items()
        ]
    elif isinstance(feature, ClassLabel):
        enumeration = "bio_tags" if path[0] == "ner_tags" else "labels"
        result["dataType"] = "sc:Integer"
        result["references"] = {"field": {"@id": f"{enumeration}/id"}}
    elif isinstance(feature, Value):
        result["dataType"] = _TYPES[feature.dtype]
    return result

# Producer and consumer policy documents (iam.tf): object actions on this bucket's objects, one KMS action each.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::shop-claim-checks", id = "shop-claim-checks" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/created" }
  }
}

variables {
  bucket = "shop-claim-checks"
}

run "writers_put_and_encrypt_readers_get_and_decrypt" {
  command = plan

  assert {
    condition = jsondecode(output.writer_policy_json).Statement == [
      { Sid = "PutPayloads", Effect = "Allow", Action = ["s3:PutObject"], Resource = "arn:aws:s3:::shop-claim-checks/*" },
      { Sid = "EncryptPayloads", Effect = "Allow", Action = ["kms:GenerateDataKey"], Resource = "arn:aws:kms:eu-west-1:123456789012:key/created" },
    ]
    error_message = "a producer may only put objects into this bucket and encrypt them with its key"
  }
  assert {
    condition = jsondecode(output.reader_policy_json).Statement == [
      { Sid = "GetPayloads", Effect = "Allow", Action = ["s3:GetObject"], Resource = "arn:aws:s3:::shop-claim-checks/*" },
      { Sid = "DecryptPayloads", Effect = "Allow", Action = ["kms:Decrypt"], Resource = "arn:aws:kms:eu-west-1:123456789012:key/created" },
    ]
    error_message = "a consumer may only read objects of this bucket and decrypt them"
  }
  assert {
    condition     = [for s in jsondecode(output.reader_deleting_policy_json).Statement : s.Action] == [["s3:GetObject"], ["kms:Decrypt"], ["s3:DeleteObject"]]
    error_message = "a deleting consumer adds s3:DeleteObject and nothing else (no version deletes)"
  }
}

run "no_wildcard_action_and_objects_of_this_bucket_only" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for doc in [output.writer_policy_json, output.reader_policy_json, output.reader_deleting_policy_json] : [
        for s in jsondecode(doc).Statement : [
          alltrue([for a in s.Action : !strcontains(a, "*")]),
          s.Resource == "arn:aws:s3:::shop-claim-checks/*" || !strcontains(s.Resource, "*"),
        ]
      ]
    ]))
    error_message = "named actions; the only pattern is the object key within this bucket"
  }
}

run "a_given_key_is_the_kms_resource" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/given"
  }

  assert {
    condition     = jsondecode(output.reader_policy_json).Statement[1].Resource == "arn:aws:kms:eu-west-1:123456789012:key/given"
    error_message = "consumers decrypt with the key the bucket uses"
  }
}

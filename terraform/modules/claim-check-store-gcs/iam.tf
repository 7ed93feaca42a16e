# Every IAM binding the store grants its producers (object_creators: roles/storage.objectCreator, create only) and
# consumers (object_viewers: roles/storage.objectViewer, read only), on this bucket alone. With kms_key_name, Cloud
# Storage's service agent encrypts and decrypts (its binding is in main.tf): producers and consumers need no KMS role.

output "iam_bindings" {
  description = "The bucket's IAM bindings for producers and consumers: resource (the bucket), role and member."
  value = concat(
    [for b in google_storage_bucket_iam_member.creator : { resource = "projects/_/buckets/${var.bucket}", role = b.role, member = b.member }],
    [for b in google_storage_bucket_iam_member.viewer : { resource = "projects/_/buckets/${var.bucket}", role = b.role, member = b.member }],
  )
}

# Every role assignment the store makes for its producers (writer_principal_ids: Storage Blob Data Contributor)
# and consumers (reader_principal_ids: Storage Blob Data Reader), all on the payload container alone; shared keys
# are off, so these roles are the only way in.

output "role_assignments" {
  description = "The container's role assignments for producers and consumers, by principal_id: scope, role."
  value = merge(
    { for id, a in azurerm_role_assignment.writer : id => { scope = a.scope, role = a.role_definition_name } },
    { for id, a in azurerm_role_assignment.reader : id => { scope = a.scope, role = a.role_definition_name } },
  )
}

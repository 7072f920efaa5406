//! Retention of visitors' personal data (issue 18): which groups are past the period, and
//! their erasure. A group is past it when it was dispatched, every visitor's post-visit
//! registration (销签登记) is completed and the last was completed before the cutoff, or its
//! invitation was cancelled before the cutoff.

use super::sql::{id_list, Conn, DbResult};

/// Groups past the retention period (`cutoff`, a timestamp), not yet erased, at most `limit`.
/// Read along the dispatch date first: a group dispatched after the cutoff cannot be due.
pub async fn due_groups(pool: &sqlx::AnyPool, cutoff: i64, limit: i64) -> DbResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT g.id FROM invitation_groups g
         WHERE g.personal_data_erased_at IS NULL AND g.dispatched_at < $1
           AND ((g.state = 'cancelled'
                 AND EXISTS (SELECT 1 FROM group_cancellations c
                             WHERE c.group_id = g.id AND c.cancelled_at < $1))
             OR (g.state = 'dispatched'
                 AND NOT EXISTS (SELECT 1 FROM group_visitors v
                                 LEFT JOIN visit_records r ON r.visitor_id = v.id
                                 WHERE v.group_id = g.id
                                   AND (r.id IS NULL OR r.state <> 'completed'))
                 AND (SELECT MAX(r.completed_at) FROM visit_records r
                      WHERE r.group_id = g.id) < $1))
         ORDER BY g.id LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Erases group `id`'s personal data: its visitors' names, birth dates, passport numbers and
/// expiry, employers, positions and addresses, and the rows of every file of the group, its
/// visitors and their registrations (scans, the stamped form, the letter). Kept: the group, its
/// itinerary and dates, each visitor's nationality, sex, visa type, days of stay and employer's
/// country and city, the registrations' dates and ports, the audit log. Returns the hashes of
/// the files whose rows went (the caller removes them from the store once committed, unless
/// another row names the same content), or `None` when the group was erased already.
pub async fn erase_group(conn: &mut Conn, id: i64, now: i64) -> DbResult<Option<Vec<String>>> {
    // Claim the group first: a second instance's job finds it erased.
    let r = sqlx::query(
        "UPDATE invitation_groups SET personal_data_erased_at = $2
         WHERE id = $1 AND personal_data_erased_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(None);
    }
    let (ids, shas) = super::group_paths::file_rows(conn, id).await?;
    for sql in [
        "UPDATE group_visitors SET surname = '', given_name = '', birth_date = '',
            passport_no = '', passport_expiry = '', employer = '', position = '',
            employer_address = '', passport_index = NULL, seal_key = NULL,
            passport_file_id = NULL, visa_file_id = NULL
         WHERE group_id = $1",
        "UPDATE invitation_groups SET scan_file_id = NULL, letter_file_id = NULL WHERE id = $1",
        "DELETE FROM group_attachments WHERE group_id = $1",
        "DELETE FROM visit_files WHERE record_id IN
            (SELECT id FROM visit_records WHERE group_id = $1)",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    if !ids.is_empty() {
        // Only the rows no other record names (a row may be shared: the data generator shares
        // them, and a unit's attachments are not the group's to erase).
        sqlx::query(&format!(
            "DELETE FROM files WHERE id IN ({})
               AND id NOT IN (SELECT file_id FROM unit_attachments)
               AND id NOT IN (SELECT template_file_id FROM attachment_types
                              WHERE template_file_id IS NOT NULL)
               AND id NOT IN (SELECT file_id FROM group_attachments)
               AND id NOT IN (SELECT passport_file_id FROM group_visitors
                              WHERE passport_file_id IS NOT NULL)
               AND id NOT IN (SELECT visa_file_id FROM group_visitors
                              WHERE visa_file_id IS NOT NULL)
               AND id NOT IN (SELECT scan_file_id FROM invitation_groups
                              WHERE scan_file_id IS NOT NULL)
               AND id NOT IN (SELECT letter_file_id FROM invitation_groups
                              WHERE letter_file_id IS NOT NULL)
               AND id NOT IN (SELECT file_id FROM visit_files)",
            id_list(&ids)
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(shas))
}

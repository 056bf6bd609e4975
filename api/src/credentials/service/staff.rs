//! The staff's permit use cases at the counter: issue, revoke, the search by ID number and
//! real-name confirmation. A staff member sees only permits of the service points they serve.

use super::*;

/// The permit issued for an application (the counter's list links its slip).
pub async fn permit_for_application(
    storage: &dyn Storage,
    application_id: Uuid,
) -> Result<Option<Uuid>> {
    let mut tx = storage.begin().await?;
    Ok(store::permit_id_for(&mut tx, application_id).await?)
}

/// 签发 at the counter: the permit of a checked-in application of one of the staff member's
/// service points. `province` is the policy's name, the first part of the district printed.
pub async fn issue(
    storage: &dyn Storage,
    staff: Staff,
    application_id: Uuid,
    province: &str,
    now: DateTime<Utc>,
) -> Result<Permit> {
    let a = storage.application(application_id).await?;
    if !serves(storage, staff, a.fields.service_point_id).await? {
        return Err(CredentialError::NotFound);
    }
    // Read again as issuing always did, so the check sees the latest status.
    let a = storage.application(a.id).await?;
    if a.status == Status::Issued {
        return Err(CredentialError::AlreadyIssued);
    }
    let id = a.fields.applicant_id_number.clone();
    let district = storage.region(&a.fields.district_code).await?;
    let city = match &district.parent_code {
        Some(code) => storage.region(code).await?.name,
        None => String::new(),
    };
    let today = local_date(now);
    // The phone given on the form: for a walk-in, the person's own, since the service point's
    // custody account (which holds the permit until it is claimed) has none.
    let phone = Some(a.fields.phone.as_str().to_string());
    let in_custody = storage
        .account_by_id(a.account_id)
        .await?
        .custody_point_id
        .is_some();
    let mut tries = 0;
    loop {
        let number = format!(
            "{}{}{:06}",
            a.fields.district_code,
            today.format("%Y"),
            rand::Rng::gen_range(&mut rand::thread_rng(), 0..1_000_000)
        );
        let new = NewPermit {
            number,
            application_id: a.id,
            account_id: a.account_id,
            holder_name: a.fields.applicant_name.clone(),
            id_number: id.clone(),
            sex: id.sex(),
            birth_date: id.birth_date(),
            district: format!("{province}{city}{}", district.name),
            authority: authority_of(&city, &district.name),
            service_point_id: a.fields.service_point_id,
            first_issued: today,
            valid_until: rules::anniversary(today, 1),
            supersedes: a.fields.business_type != BusinessType::First,
        };
        let notice = NewNotification {
            account_id: a.account_id,
            kind: "permit_issued",
            title: "居住证已签发".into(),
            body: if in_custody {
                format!(
                    "【居住证】{}，您的居住证（{}）已签发，有效期至{}，由受理点代为保管。完成实名认证后，登录并在“我的证照”中按证件号码添加，即可出示电子居住证。",
                    new.holder_name, new.number, new.valid_until
                )
            } else {
                format!(
                    "【居住证】{}，您的居住证（{}）已签发，有效期至{}。登录后在“我的证照”中确认身份即可出示电子居住证。",
                    new.holder_name, new.number, new.valid_until
                )
            },
            application_id: Some(a.id),
            sms_phone: phone.clone(),
            sms_params: vec![
                ("name", new.holder_name.clone()),
                ("permit", new.number.clone()),
                ("date", new.valid_until.format("%Y年%m月%d日").to_string()),
            ],
        };
        // A racing issuer took the status index or the number: try again with fresh ones.
        match record_issue(storage, &new, now, &notice).await {
            Err(CredentialError::Storage(StorageError::Conflict(
                "status_index" | "permit_number",
            ))) if tries < 5 => tries += 1,
            other => return other,
        }
    }
}

/// Revokes a permit issued at one of the staff member's service points.
pub async fn revoke(
    storage: &dyn Storage,
    staff: Staff,
    id: Uuid,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<Permit> {
    let p = served_permit(storage, staff, id).await?;
    let n = notice_to(
        &p,
        None,
        "permit_revoked",
        "居住证已注销",
        format!(
            "【居住证】您的居住证{}已注销。如有疑问请联系受理点。",
            p.number
        ),
        Vec::new(),
    );
    record_revocation(storage, p.id, reason.as_str(), now, &n).await
}

fn id_number(input: &str) -> Result<IdNumber> {
    IdNumber::parse(input).map_err(CredentialError::InvalidIdNumber)
}

/// A person's permits issued at the staff member's service points, by the ID number on the
/// card or the form.
pub async fn find_served(
    storage: &dyn Storage,
    staff: Staff,
    id_number_input: &str,
    before: Option<Cursor>,
    limit: Option<i64>,
) -> Result<Page<Permit>> {
    let limit = page::limit(limit).ok_or(CredentialError::InvalidLimit)?;
    let card = id_number(id_number_input)?;
    let clerk = match staff.role {
        Role::Admin => None,
        Role::Clerk => Some(staff.account_id),
        Role::Resident | Role::Unit => {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
    };
    let found = storage
        .permits_of_person(card.as_str(), clerk, before, limit + 1)
        .await?;
    Ok(Page::of(found, limit, |p| Cursor {
        at: p.created_at,
        id: p.id,
    }))
}

/// 实名认证: the clerk checked the resident's ID card against the account.
pub async fn confirm_real_name(
    storage: &dyn Storage,
    account_id: Uuid,
    id_number_input: &str,
    now: DateTime<Utc>,
) -> Result<Account> {
    let account = storage.account_by_id(account_id).await?;
    let card = id_number(id_number_input)?;
    if account.role != Role::Resident || account.id_number.as_deref() != Some(card.as_str()) {
        return Err(CredentialError::IdNumberMismatch);
    }
    storage.set_real_name_verified(account.id, now).await?;
    Ok(account)
}

/// An account as it is now.
pub async fn account(storage: &dyn Storage, id: Uuid) -> Result<Account> {
    Ok(storage.account_by_id(id).await?)
}

/// A resident's account by the ID number on the card (for 实名认证).
pub async fn find_resident(storage: &dyn Storage, id_number_input: &str) -> Result<Account> {
    let card = id_number(id_number_input)?;
    Ok(storage.resident_by_id_number(card.as_str()).await?)
}
